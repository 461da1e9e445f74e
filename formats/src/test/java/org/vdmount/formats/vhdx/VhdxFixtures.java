package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Edits VHDX files that qemu made: a metadata item's value, a BAT entry, and the conversion of a
 * dynamic disk into a differencing one (HasParent, a parent locator, a sector bitmap block), as
 * Hyper-V would write it. qemu cannot make differencing VHDX (nor read them), so the tests build
 * the expected bytes from qemu's reading of each layer.
 */
final class VhdxFixtures {
    private final Path file;
    private final ByteBuffer b;

    VhdxFixtures(Path file) throws IOException {
        this.file = file;
        this.b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    }

    void save() throws IOException {
        Files.write(file, b.array());
    }

    long region(UUID guid) {
        int count = b.getInt(196608 + 8);
        for (int i = 0; i < count; i++) {
            int at = 196608 + 16 + 32 * i;
            if (Guids.read(b, at).equals(guid)) {
                return b.getLong(at + 16);
            }
        }
        throw new IllegalStateException("no region " + guid);
    }

    /** Byte offset in the file of the value of metadata item {@code id}. */
    int item(UUID id) {
        int meta = (int) region(RegionTable.METADATA);
        int count = Short.toUnsignedInt(b.getShort(meta + 10));
        for (int i = 0; i < count; i++) {
            int at = meta + 32 + 32 * i;
            if (Guids.read(b, at).equals(id)) {
                return meta + b.getInt(at + 16);
            }
        }
        throw new IllegalStateException("no metadata item " + id);
    }

    void putInt(int at, int value) {
        b.putInt(at, value);
    }

    long batEntry(long index) {
        return b.getLong((int) (region(RegionTable.BAT) + 8 * index));
    }

    void setBatEntry(long index, long value) {
        b.putLong((int) (region(RegionTable.BAT) + 8 * index), value);
    }

    /**
     * Turns a disk of 512-byte logical sectors into one of 4096-byte sectors holding the same bytes:
     * the chunk ratio grows eightfold, so every payload block's BAT entry moves to its place in the
     * new interleaving.
     */
    void toFourKiBSectors(long blockSize, long dataBlocks) {
        long oldRatio = (1L << 23) * 512 / blockSize;
        long newRatio = (1L << 23) * 4096 / blockSize;
        long[] entries = new long[(int) dataBlocks];
        for (long i = 0; i < dataBlocks; i++) {
            entries[(int) i] = batEntry(i + i / oldRatio);
        }
        long oldCount = dataBlocks + (dataBlocks - 1) / oldRatio;
        for (long i = 0; i < oldCount; i++) {
            setBatEntry(i, 0);
        }
        for (long i = 0; i < dataBlocks; i++) {
            setBatEntry(i + i / newRatio, entries[(int) i]);
        }
        putInt(item(Metadata.LOGICAL_SECTOR_SIZE), 4096);
    }

    /**
     * Writes one log entry, as a crash would leave it: sequence {@code sequence}, writing
     * {@code sector} (4 KiB) at {@code dataAt} and zeroing {@code zeroLength} bytes at
     * {@code zeroAt}; at log offset {@code logAt}, its tail at {@code tail}. {@code damaged} leaves
     * its checksum wrong, as a torn write would.
     */
    void writeLogEntry(UUID logGuid, long logAt, long tail, long sequence, byte[] sector, long dataAt, long zeroAt,
            long zeroLength, boolean damaged) {
        int logOffset = (int) currentHeaderField(72);
        int at = logOffset + (int) logAt;
        ByteBuffer e = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, LogReplay.ENTRY_SIGNATURE);
        e.putInt(8, 8192);
        e.putInt(12, (int) tail);
        e.putLong(16, sequence);
        e.putInt(24, 2);
        ByteBuffer guid = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        putGuid(guid, 0, logGuid);
        e.put(32, guid.array());
        e.putLong(48, b.capacity());
        e.putLong(56, b.capacity());
        e.putInt(64, LogReplay.DATA_SIGNATURE);
        e.put(68, sector, 4092, 4);
        e.put(72, sector, 0, 8);
        e.putLong(80, dataAt);
        e.putLong(88, sequence);
        e.putInt(96, LogReplay.ZERO_SIGNATURE);
        e.putLong(104, zeroLength);
        e.putLong(112, zeroAt);
        e.putLong(120, sequence);
        e.putInt(4096, LogReplay.SECTOR_SIGNATURE);
        e.putInt(4100, (int) (sequence >>> 32));
        e.put(4104, sector, 8, 4084);
        e.putInt(8188, (int) sequence);
        e.putInt(4, (int) Checksums.crc32c(e, 8192, 4) + (damaged ? 1 : 0));
        b.put(at, e.array());
    }

    /** Sets the log GUID of the current header, with its checksum made anew. */
    void setLogGuid(UUID logGuid) {
        int h = currentHeader();
        putGuid(b, h + 48, logGuid);
        b.putInt(h + 4, 0);
        b.putInt(h + 4, (int) Checksums.crc32c(b.slice(h, 4096).order(ByteOrder.LITTLE_ENDIAN), 4096, 4));
    }

    private int currentHeader() {
        return b.getLong(131072 + 8) > b.getLong(65536 + 8) ? 131072 : 65536;
    }

    private long currentHeaderField(int at) {
        return b.getLong(currentHeader() + at);
    }

    /** The DataWriteGuid of the current header. */
    static UUID dataWriteGuid(Path vhdx) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(vhdx)).order(ByteOrder.LITTLE_ENDIAN);
        int current = all.getLong(131072 + 8) > all.getLong(65536 + 8) ? 131072 : 65536;
        return Guids.read(all, current + 32);
    }

    /**
     * Makes this dynamic disk a differencing one whose parent has DataWriteGuid {@code linkage} and
     * is found through {@code paths} (locator key to value).
     */
    void makeDifferencing(UUID linkage, Map<String, String> paths) {
        int params = item(Metadata.FILE_PARAMETERS);
        b.putInt(params + 4, b.getInt(params + 4) | 2);
        Map<String, String> pairs = new LinkedHashMap<>();
        pairs.put("parent_linkage", "{" + linkage + "}");
        pairs.putAll(paths);
        int meta = (int) region(RegionTable.METADATA);
        int count = Short.toUnsignedInt(b.getShort(meta + 10));
        int free = 0;
        for (int i = 0; i < count; i++) {
            int at = meta + 32 + 32 * i;
            free = Math.max(free, b.getInt(at + 16) + b.getInt(at + 20));
        }
        free = (free + 4095) & ~4095;
        int locator = meta + free;
        putGuid(locator, Metadata.VHDX_LOCATOR_TYPE);
        b.putShort(locator + 18, (short) pairs.size());
        int strings = 20 + 12 * pairs.size();
        int i = 0;
        for (Map.Entry<String, String> e : pairs.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_16LE);
            byte[] value = e.getValue().getBytes(StandardCharsets.UTF_16LE);
            int entry = locator + 20 + 12 * i++;
            b.putInt(entry, strings);
            b.put(locator + strings, key);
            strings += key.length;
            b.putInt(entry + 4, strings);
            b.put(locator + strings, value);
            strings += value.length;
            b.putShort(entry + 8, (short) key.length);
            b.putShort(entry + 10, (short) value.length);
        }
        int entry = meta + 32 + 32 * count;
        putGuid(entry, Metadata.PARENT_LOCATOR);
        b.putInt(entry + 16, free);
        b.putInt(entry + 20, strings);
        b.putInt(entry + 24, 4); // required
        b.putShort(meta + 10, (short) (count + 1));
    }

    /**
     * Saves the file with payload block {@code block} marked partly present, its first
     * {@code sectors} sectors here and the rest in the parent, through a sector bitmap block
     * appended to the file (the first chunk's).
     */
    void saveWithBlockPartlyPresent(long block, long chunkRatio, long blockSize, int sectors) throws IOException {
        long entry = batEntry(block);
        setBatEntry(block, (entry & ~7L) | 7);
        long bitmapAt = (b.capacity() + (1 << 20) - 1) & -(1L << 20);
        ByteBuffer grown = ByteBuffer.allocate((int) bitmapAt + (1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
        grown.put(0, b.array());
        int bits = (int) (bitmapAt + block * (blockSize / 512 / 8));
        for (int s = 0; s < sectors; s++) {
            grown.put(bits + s / 8, (byte) (grown.get(bits + s / 8) | (1 << (s % 8))));
        }
        grown.putLong((int) (region(RegionTable.BAT) + 8 * chunkRatio), (bitmapAt >>> 20) << 20 | 6);
        Files.write(file, grown.array());
    }

    private void putGuid(int at, UUID guid) {
        putGuid(b, at, guid);
    }

    private static void putGuid(ByteBuffer to, int at, UUID guid) {
        long high = guid.getMostSignificantBits();
        ByteBuffer le = to.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        le.putInt(at, (int) (high >>> 32));
        le.putShort(at + 4, (short) (high >>> 16));
        le.putShort(at + 6, (short) high);
        to.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(at + 8, guid.getLeastSignificantBits());
    }
}
