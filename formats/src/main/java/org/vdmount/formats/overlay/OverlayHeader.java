package org.vdmount.formats.overlay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The first 4 KiB of a vdmount overlay file. Little-endian:
 * <pre>
 *   0  16  magic "VDMOUNT-OVERLAY\0"
 *  16   4  version (1)
 *  20   4  block size, bytes (a power of two, 4 KiB .. 2 MiB)
 *  24   8  virtual size, bytes (the base image's)
 *  32   8  state table offset (4096)
 *  40   8  data offset (block n lives at data offset + n * block size)
 *  48 ...  base image name, UTF-8, NUL-terminated (for people; never opened from here)
 * </pre>
 * The state table holds two bits per block: 0 = read the base image, 1 = data in the overlay,
 * 2 = zeros (discarded or written as zeros).
 */
record OverlayHeader(int blockSize, long virtualSize, long tableOffset, long dataOffset, String baseName) {
    static final int SIZE = 4096;
    static final int VERSION = 1;
    private static final byte[] MAGIC = "VDMOUNT-OVERLAY\0".getBytes(StandardCharsets.US_ASCII);
    private static final int NAME_OFFSET = 48;

    static OverlayHeader create(long virtualSize, int blockSize, String baseName) {
        long blocks = blockCount(virtualSize, blockSize);
        long tableBytes = tableBytes(blocks);
        long dataOffset = roundUp(SIZE + tableBytes, 1 << 20);
        return new OverlayHeader(blockSize, virtualSize, SIZE, dataOffset, baseName);
    }

    static long blockCount(long virtualSize, int blockSize) {
        return (virtualSize + blockSize - 1) / blockSize;
    }

    static long tableBytes(long blocks) {
        return roundUp((blocks + 3) / 4, 8);
    }

    long blocks() {
        return blockCount(virtualSize, blockSize);
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        b.putInt(16, VERSION);
        b.putInt(20, blockSize);
        b.putLong(24, virtualSize);
        b.putLong(32, tableOffset);
        b.putLong(40, dataOffset);
        byte[] name = baseName.getBytes(StandardCharsets.UTF_8);
        b.position(NAME_OFFSET).put(name, 0, Math.min(name.length, SIZE - NAME_OFFSET - 1));
        return b.clear();
    }

    static boolean probe(ByteBuffer head) {
        if (head.remaining() < MAGIC.length) {
            return false;
        }
        byte[] magic = new byte[MAGIC.length];
        head.duplicate().get(magic);
        return Arrays.equals(magic, MAGIC);
    }

    static OverlayHeader read(Storage storage) throws IOException {
        String file = storage.name();
        if (storage.size() < SIZE) {
            throw new ImageException(file, "not a vdmount overlay (too short)");
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        storage.readFully(b, 0);
        b.flip();
        if (!probe(b)) {
            throw new ImageException(file, "not a vdmount overlay (no overlay magic); refusing to write to it");
        }
        int version = b.getInt(16);
        if (version != VERSION) {
            throw new ImageException(file, "overlay version " + version + " is not supported");
        }
        int blockSize = b.getInt(20);
        long virtualSize = b.getLong(24);
        long tableOffset = b.getLong(32);
        long dataOffset = b.getLong(40);
        if (blockSize < 4096 || blockSize > (2 << 20) || Integer.bitCount(blockSize) != 1) {
            throw new ImageException(file, "overlay block size " + blockSize + " is invalid");
        }
        if (virtualSize <= 0 || virtualSize > (1L << 50)) {
            throw new ImageException(file, "overlay virtual size " + virtualSize + " is invalid");
        }
        long tableBytes = tableBytes(blockCount(virtualSize, blockSize));
        if (tableOffset != SIZE || dataOffset < tableOffset + tableBytes) {
            throw new ImageException(file, "overlay layout is damaged");
        }
        int end = NAME_OFFSET;
        while (end < SIZE && b.get(end) != 0) {
            end++;
        }
        String name = new String(b.array(), NAME_OFFSET, end - NAME_OFFSET, StandardCharsets.UTF_8);
        return new OverlayHeader(blockSize, virtualSize, tableOffset, dataOffset, name);
    }
}
