package org.vdmount.formats.ewf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.zip.Adler32;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.testing.TestImages;

/**
 * E01 sets made by libewf's own tools (Debian's ewf-tools, which CI installs): ewfacquire writes
 * them, ewfexport reads them back as the reference every byte is compared with.
 */
public final class Ewf {
    private Ewf() {
    }

    /**
     * Acquires {@code raw} into {@code dir/name.E01} (and .E02... when {@code segmentBytes} is not
     * 0) and returns the first segment.
     *
     * @param compression none, empty-block, fast or best
     * @param format      encase5, encase6, ftk, linen6...
     */
    public static Path acquire(Path dir, Path raw, String name, String compression, int chunkSectors,
            long segmentBytes, String format, boolean sha1) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ewfacquire", "-u", "-q", "-t", dir.resolve(name).toString(),
                "-c", compression, "-b", Integer.toString(chunkSectors), "-f", format,
                "-C", "case 14", "-E", "evidence 7", "-e", "A. Examiner", "-D", "test disk", "-N", "made by a test"));
        if (segmentBytes > 0) {
            cmd.addAll(List.of("-S", Long.toString(segmentBytes)));
        }
        if (sha1) {
            cmd.addAll(List.of("-d", "sha1"));
        }
        cmd.add(raw.toString());
        TestImages.run(dir, cmd.toArray(String[]::new));
        // EnCase and FTK sets start at .E01, the ewf and ewfx formats' at .e01, SMART's at .s01.
        for (String ext : List.of(".E01", ".e01", ".s01")) {
            if (Files.exists(dir.resolve(name + ext))) {
                return dir.resolve(name + ext);
            }
        }
        throw new AssertionError("ewfacquire made no " + name + ".E01");
    }

    /** libewf's reading of the set: {@code ewfexport -f raw}. */
    public static Path export(Path first) throws Exception {
        String stem = first.getFileName().toString().replaceAll("\\.[EeSs]01$", "");
        Path target = first.resolveSibling(stem + ".ewfexport");
        TestImages.run(first.getParent(), "ewfexport", "-u", "-q", "-f", "raw", "-t", target.toString(),
                first.toString());
        return first.resolveSibling(stem + ".ewfexport.raw");
    }

    /** The hash ewfinfo reports as stored in the set ("MD5", "SHA1"), in lower-case hex, or null. */
    public static String storedHash(Path first, String name) throws Exception {
        String out = TestImages.run(first.getParent(), "ewfinfo", first.toString());
        for (String line : out.split("\n")) {
            String t = line.trim();
            if (t.startsWith(name + ":")) {
                return t.substring(name.length() + 1).trim().toLowerCase(java.util.Locale.ROOT);
            }
        }
        return null;
    }

    /** {offset, size} of each section of {@code type} in a segment, walking its chain. */
    public static List<long[]> section(Path segment, String type) throws java.io.IOException {
        List<long[]> out = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment)) {
            long at = 13;
            while (true) {
                ByteBuffer d = ByteBuffer.allocate(76).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(d, at);
                String t = new String(d.array(), 0, 16, StandardCharsets.US_ASCII).replace("\0", "");
                long next = d.getLong(16);
                if (t.equals(type)) {
                    out.add(new long[] {at, d.getLong(24)});
                }
                if (next <= at) {
                    return out;
                }
                at = next;
            }
        }
    }

    /**
     * Rewrites the MD5 recorded in the set's hash and digest sections (their checksums made good
     * again), as if the acquisition had recorded another value.
     */
    public static void recordMd5(Path lastSegment, byte[] md5) throws java.io.IOException {
        try (FileChannel ch = FileChannel.open(lastSegment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (String type : List.of("hash", "digest")) {
                int checked = type.equals("hash") ? 32 : 76;
                for (long[] s : section(lastSegment, type)) {
                    ByteBuffer data = ByteBuffer.allocate(checked + 4).order(ByteOrder.LITTLE_ENDIAN);
                    ch.read(data, s[0] + 76);
                    data.put(0, md5);
                    Adler32 sum = new Adler32();
                    sum.update(data.array(), 0, checked);
                    data.putInt(checked, (int) sum.getValue());
                    ch.write(data.clear(), s[0] + 76);
                }
            }
        }
    }

    /** What {@code ewfverify} prints for the set (its MD5 and SHA-1 lines among them). */
    public static TestImages.Result verify(Path first) throws Exception {
        return TestImages.runAllowingFailure(first.getParent(), "ewfverify", "-q", "-d", "sha1", first.toString());
    }
}
