package org.vdmount.formats.partition;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32;

/** Writes MBR, EBR and GPT structures into a disk's bytes by hand, for what sfdisk will not make. */
final class TableBytes {
    static final String LINUX_FS = "0fc63daf-8483-4772-8e79-3d69d8477de4";
    static final String EFI_SYSTEM = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

    record GptEntry(String type, long first, long last, String name) {
    }

    private TableBytes() {
    }

    static ByteBuffer le(byte[] disk) {
        return ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Writes one of the four entries of the table in the sector at {@code sector} (512-byte sectors). */
    static void mbrEntry(byte[] disk, long sector, int slot, int flag, int type, long first, long count) {
        ByteBuffer b = le(disk);
        int at = (int) (sector * 512) + 446 + 16 * slot;
        b.put(at, (byte) flag);
        b.put(at + 4, (byte) type);
        b.putInt(at + 8, (int) first);
        b.putInt(at + 12, (int) count);
        b.put((int) (sector * 512) + 510, (byte) 0x55);
        b.put((int) (sector * 512) + 511, (byte) 0xAA);
    }

    static void putGuid(ByteBuffer b, int at, String guid) {
        String hex = guid.replace("-", "");
        byte[] raw = new byte[16];
        for (int i = 0; i < 16; i++) {
            raw[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        // The first three fields are stored little-endian.
        int[] order = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
        for (int i = 0; i < 16; i++) {
            b.put(at + i, raw[order[i]]);
        }
    }

    /**
     * A disk of {@code sectors} sectors of {@code sectorSize} bytes with a protective MBR and a
     * valid GPT (128 entries of 128 bytes) in both places.
     */
    static byte[] gptDisk(int sectorSize, int sectors, List<GptEntry> entries) {
        byte[] disk = new byte[sectorSize * sectors];
        mbrEntry(disk, 0, 0, 0, 0xee, 1, Math.min(sectors - 1L, 0xFFFFFFFFL));
        int arraySectors = 128 * 128 / sectorSize;
        long last = sectors - 1;
        ByteBuffer b = le(disk);
        for (int i = 0; i < entries.size(); i++) {
            GptEntry e = entries.get(i);
            for (long arrayLba : new long[] {2, last - arraySectors}) {
                int at = (int) (arrayLba * sectorSize) + 128 * i;
                putGuid(b, at, e.type());
                putGuid(b, at + 16, String.format("11111111-2222-3333-4444-%012x", i + 1));
                b.putLong(at + 32, e.first());
                b.putLong(at + 40, e.last());
                byte[] name = e.name().getBytes(StandardCharsets.UTF_16LE);
                b.put(at + 56, name);
            }
        }
        writeHeader(disk, sectorSize, 1, last, 2, 2 + arraySectors, last - arraySectors - 1);
        writeHeader(disk, sectorSize, last, 1, last - arraySectors, 2 + arraySectors, last - arraySectors - 1);
        return disk;
    }

    private static void writeHeader(byte[] disk, int ss, long lba, long alternate, long entriesLba,
                                    long firstUsable, long lastUsable) {
        ByteBuffer b = le(disk);
        int at = (int) (lba * ss);
        b.putLong(at, 0x5452415020494645L);
        b.putInt(at + 8, 0x00010000);
        b.putInt(at + 12, 92);
        b.putLong(at + 24, lba);
        b.putLong(at + 32, alternate);
        b.putLong(at + 40, firstUsable);
        b.putLong(at + 48, lastUsable);
        putGuid(b, at + 56, "01234567-89ab-cdef-0123-456789abcdef");
        b.putLong(at + 72, entriesLba);
        b.putInt(at + 80, 128);
        b.putInt(at + 84, 128);
        fixCrcs(disk, ss, lba);
    }

    /** Changes the header at {@code lba} and recomputes its CRC (not the array's). */
    static void changeHeader(byte[] disk, int ss, long lba, Consumer<ByteBuffer> change) {
        ByteBuffer header = le(disk).position((int) (lba * ss)).slice().order(ByteOrder.LITTLE_ENDIAN);
        change.accept(header);
        fixHeaderCrc(disk, ss, lba);
    }

    /** Recomputes the array CRC (when the header's count and size are sane) and then the header CRC. */
    static void fixCrcs(byte[] disk, int ss, long lba) {
        ByteBuffer b = le(disk);
        int at = (int) (lba * ss);
        long entriesLba = b.getLong(at + 72);
        long bytes = (b.getInt(at + 80) & 0xFFFFFFFFL) * (b.getInt(at + 84) & 0xFFFFFFFFL);
        if (bytes <= 1 << 20 && entriesLba > 0 && entriesLba * ss + bytes <= disk.length) {
            b.putInt(at + 88, crc(disk, (int) (entriesLba * ss), (int) bytes));
        }
        fixHeaderCrc(disk, ss, lba);
    }

    private static void fixHeaderCrc(byte[] disk, int ss, long lba) {
        ByteBuffer b = le(disk);
        int at = (int) (lba * ss);
        int size = Math.min(Math.max(b.getInt(at + 12), 0), ss);
        b.putInt(at + 16, 0);
        b.putInt(at + 16, crc(disk, at, size));
    }

    static int crc(byte[] data, int at, int length) {
        CRC32 c = new CRC32();
        c.update(data, at, length);
        return (int) c.getValue();
    }
}
