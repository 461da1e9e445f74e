package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Builds, byte by byte, the VMDK files qemu-img cannot make: descriptors with ZERO, RDONLY and
 * NOACCESS extents, COWD and seSparse extents. Layouts follow the public descriptions named in
 * {@link VmdkFormat}.
 */
final class VmdkFixtures {
    private VmdkFixtures() {
    }

    static Path descriptor(Path file, String createType, String parentHint, String parentCid, String... extents)
            throws IOException {
        StringBuilder s = new StringBuilder("# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=12345678\n");
        s.append("parentCID=").append(parentCid == null ? "ffffffff" : parentCid).append('\n');
        s.append("createType=\"").append(createType).append("\"\n");
        if (parentHint != null) {
            s.append("parentFileNameHint=\"").append(parentHint).append("\"\n");
        }
        s.append("\n# Extent description\n");
        for (String e : extents) {
            s.append(e).append('\n');
        }
        s.append("\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\nddb.virtualHWVersion = \"14\"\n");
        Files.writeString(file, s.toString(), StandardCharsets.UTF_8);
        return file;
    }

    /**
     * A COWD extent of {@code sectors} with grains of {@code grainSectors}; {@code grains} maps a
     * grain number to its content (one byte repeated). Grains are stored in the order given.
     */
    static void cowd(Path file, long sectors, int grainSectors, Map<Integer, Byte> grains) throws IOException {
        int grainBytes = grainSectors * 512;
        long tableSpan = 4096L * grainSectors;
        int gdEntries = (int) ((sectors + tableSpan - 1) / tableSpan);
        long gdSector = 4;
        long firstTable = gdSector + (4L * gdEntries + 511) / 512;
        long firstGrain = firstTable + gdEntries * 32L;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer h = le(512);
            h.putInt(0, 0x44574f43).putInt(4, 1).putInt(8, 3).putInt(12, (int) sectors).putInt(16, grainSectors)
                    .putInt(20, (int) gdSector).putInt(24, gdEntries).putInt(28, 0);
            write(ch, h, 0);
            ByteBuffer gd = le(4 * gdEntries);
            for (int i = 0; i < gdEntries; i++) {
                gd.putInt(4 * i, (int) (firstTable + 32L * i));
            }
            write(ch, gd, gdSector * 512);
            long next = firstGrain;
            for (var g : grains.entrySet()) {
                int grain = g.getKey();
                ByteBuffer gte = le(4).putInt(0, (int) next);
                write(ch, gte, (firstTable + 32L * (grain / 4096)) * 512 + 4L * (grain % 4096));
                byte[] data = new byte[grainBytes];
                java.util.Arrays.fill(data, g.getValue());
                write(ch, ByteBuffer.wrap(data), next * 512);
                next += grainSectors;
            }
            if (ch.size() < firstGrain * 512) {
                write(ch, le(1), firstGrain * 512 - 1);
            }
        }
    }

    /**
     * An seSparse extent of {@code sectors} (4 KiB grains, 4096-entry tables); {@code grains} maps a
     * grain number to its content (one byte repeated), or to null for a zero grain entry.
     */
    static void seSparse(Path file, long sectors, Map<Integer, Byte> grains) throws IOException {
        long coverage = 8L * 4096;
        int gdEntries = (int) ((sectors + coverage - 1) / coverage);
        long volatileAt = 1;
        long journalHeaderAt = 2;
        long journalAt = 3;
        long gdAt = 8;
        long gdSectors = Math.max(1, (8L * gdEntries + 511) / 512);
        long tablesAt = gdAt + gdSectors;
        long tablesSectors = 64L * gdEntries;
        long grainsAt = tablesAt + tablesSectors;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer h = le(512);
            h.putLong(0, 0xcafebabeL).putLong(8, 0x200000001L).putLong(16, sectors).putLong(24, 8).putLong(32, 64)
                    .putLong(40, 0)
                    .putLong(80, volatileAt).putLong(88, 1)
                    .putLong(96, journalHeaderAt).putLong(104, 1)
                    .putLong(112, journalAt).putLong(120, 1)
                    .putLong(128, gdAt).putLong(136, gdSectors)
                    .putLong(144, tablesAt).putLong(152, tablesSectors)
                    .putLong(160, 4).putLong(168, 1)
                    .putLong(176, 5).putLong(184, 1)
                    .putLong(192, grainsAt).putLong(200, 1L << 20);
            write(ch, h, 0);
            ByteBuffer v = le(512).putLong(0, 0xcafecafeL).putLong(8, gdEntries).putLong(16, 1).putLong(24, 0);
            write(ch, v, volatileAt * 512);
            // Tables are placed in reverse order, to check the directory is followed, not assumed.
            ByteBuffer gd = le(8 * gdEntries);
            for (int i = 0; i < gdEntries; i++) {
                gd.putLong(8 * i, 0x1000000000000000L | (gdEntries - 1 - i));
            }
            write(ch, gd, gdAt * 512);
            long next = 0;
            for (var g : grains.entrySet()) {
                int grain = g.getKey();
                int table = gdEntries - 1 - grain / 4096;
                long entryAt = (tablesAt + 64L * table) * 512 + 8L * (grain % 4096);
                if (g.getValue() == null) {
                    write(ch, le(8).putLong(0, 0x2000000000000000L), entryAt);
                    continue;
                }
                long index = next + 4097; // a grain number above 4096 exercises the split encoding
                long entry = 0x3000000000000000L | ((index & 0xfff) << 48) | (index >>> 12);
                write(ch, le(8).putLong(0, entry), entryAt);
                byte[] data = new byte[4096];
                java.util.Arrays.fill(data, g.getValue());
                write(ch, ByteBuffer.wrap(data), (grainsAt + index * 8) * 512);
                next++;
            }
            if (ch.size() < grainsAt * 512) {
                write(ch, le(1), grainsAt * 512 - 1);
            }
        }
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void write(FileChannel ch, ByteBuffer b, long at) throws IOException {
        b.clear();
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }

    /** Overwrites bytes of a file in place. */
    static void patch(Path file, long at, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            write(ch, bytes, at);
        }
    }
}
