package org.vdmount.mounter.serve.kill;

import static org.vdmount.mounter.serve.kill.SectorPattern.SECTOR;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vdmount.formats.testing.TestImages;

/**
 * The images the kill test writes, made by qemu-img from the same initial content: every other
 * MiB holds data (write number {@link SectorPattern#INITIAL}), the rest is zeros.
 */
enum KillImage {
    /** A v3 qcow2 of 64 KiB clusters over a raw backing file: partial writes copy from the backing file. */
    QCOW2_V3_BACKING("qcow2 v3 + backing", "qcow2") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            Path base = dir.resolve("base.raw");
            Files.move(initial, base);
            Path image = dir.resolve("top.qcow2");
            TestImages.run(dir, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1,cluster_size=65536",
                    "-b", base.toString(), "-F", "raw", image.toString(), Long.toString(SIZE));
            return image;
        }
    },
    /**
     * A qcow2 with extended L2 entries (64 KiB clusters of 2 KiB subclusters) over a raw backing
     * file: writes allocate subclusters, partial ones copy from the backing file.
     */
    QCOW2_SUBCLUSTERS_BACKING("qcow2 ext-L2 + backing", "qcow2") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            Path base = dir.resolve("base.raw");
            Files.move(initial, base);
            Path image = dir.resolve("top.qcow2");
            TestImages.run(dir, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=65536",
                    "-b", base.toString(), "-F", "raw", image.toString(), Long.toString(SIZE));
            return image;
        }
    },
    /**
     * A qcow2 whose guest data lives in an external data file (not raw): data goes there, at its
     * guest offset, metadata to the image file; both are flushed on FLUSH.
     */
    QCOW2_DATA_FILE("qcow2 + data file", "qcow2") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            return convert(dir, initial, "top.qcow2", "-O", "qcow2", "-o", "data_file=top.data");
        }
    },
    /** A v2 qcow2 (no zero clusters: zeros are written or clusters freed), no backing file. */
    QCOW2_V2("qcow2 v2", "qcow2") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            return convert(dir, initial, "v2.qcow2", "-O", "qcow2", "-o", "compat=0.10");
        }
    },
    /** A compressed qcow2: the stream overwrites compressed clusters. */
    QCOW2_COMPRESSED("qcow2 compressed", "qcow2") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            Path image = convert(dir, initial, "compressed.qcow2", "-c", "-O", "qcow2");
            String check = TestImages.run(dir, "qemu-img", "check", image.toString());
            Matcher m = Pattern.compile("([0-9.]+)% compressed clusters").matcher(check);
            if (!m.find() || Double.parseDouble(m.group(1)) < 40) {
                throw new AssertionError("qemu-img did not compress the initial data: " + check);
            }
            return image;
        }
    },
    /** A monolithicSparse VMDK (one file: header, grain directories and tables, grains). */
    VMDK_SPARSE("vmdk monolithicSparse", "vmdk") {
        @Override
        Path create(Path dir, Path initial) throws IOException, InterruptedException {
            return convert(dir, initial, "sparse.vmdk", "-O", "vmdk", "-o", "subformat=monolithicSparse");
        }
    };

    /** The virtual size of every image. */
    static final int SIZE = 32 << 20;
    private static final int MIB_SECTORS = (1 << 20) / SECTOR;

    final String label;
    final String format;

    KillImage(String label, String format) {
        this.label = label;
        this.format = format;
    }

    /** Makes the image in {@code dir} from the raw file {@code initial} (which it may use up). */
    abstract Path create(Path dir, Path initial) throws IOException, InterruptedException;

    /** Writes the initial content to {@code raw}; returns what each sector holds. */
    static long[] writeInitial(Path raw) throws IOException {
        long[] sectors = new long[SIZE / SECTOR];
        ByteBuffer mib = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int s = 0; s < sectors.length; s += MIB_SECTORS) {
                boolean data = (s / MIB_SECTORS) % 2 == 0;
                Arrays.fill(sectors, s, s + MIB_SECTORS, data ? SectorPattern.INITIAL : SectorPattern.ZERO);
                if (data) {
                    mib.clear();
                    SectorPattern.fill(mib, SectorPattern.INITIAL, s, MIB_SECTORS);
                    ch.write(mib.flip(), (long) s * SECTOR);
                }
            }
            ch.truncate(SIZE);
            if (ch.size() < SIZE) {
                ch.write(ByteBuffer.allocate(1), SIZE - 1);
            }
        }
        return sectors;
    }

    private static Path convert(Path dir, Path initial, String name, String... options)
            throws IOException, InterruptedException {
        Path image = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of("qemu-img", "convert", "-q", "-f", "raw"));
        command.addAll(List.of(options));
        command.addAll(List.of(initial.toString(), image.toString()));
        TestImages.run(dir, command.toArray(String[]::new));
        Files.delete(initial);
        return image;
    }
}
