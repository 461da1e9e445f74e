package org.vdmount.formats.ewf;

import java.nio.file.Files;
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
        Path first = dir.resolve(name + ".E01");
        if (!Files.exists(first)) {
            throw new AssertionError("ewfacquire made no " + first);
        }
        return first;
    }

    /** libewf's reading of the set: {@code ewfexport -f raw}. */
    public static Path export(Path first) throws Exception {
        String stem = first.getFileName().toString().replaceAll("\\.[Ee]01$", "");
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

    /** What {@code ewfverify} prints for the set (its MD5 and SHA-1 lines among them). */
    public static TestImages.Result verify(Path first) throws Exception {
        return TestImages.runAllowingFailure(first.getParent(), "ewfverify", "-q", "-d", "sha1", first.toString());
    }
}
