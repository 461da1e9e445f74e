package org.vdmount.formats.qcow2;

/**
 * Reads and writes the entries of one refcount block, 1 to 64 bits wide (refcount_order 0 to 6).
 * Entries of 8 bits or more are big-endian; narrower ones are packed into bytes starting from the
 * least significant bit, as qemu stores them (qcow2-refcount.c, get_refcount_ro0 to ro2).
 */
final class RefcountEntries {
    private final int order;
    private final int bits;
    private final long max;

    RefcountEntries(int refcountOrder) {
        this.order = refcountOrder;
        this.bits = 1 << refcountOrder;
        this.max = bits == 64 ? -1L : (1L << bits) - 1;
    }

    /** Entries in a block of {@code clusterSize} bytes. */
    long perBlock(int clusterSize) {
        return (long) clusterSize * 8 / bits;
    }

    /** The largest refcount an entry holds (unsigned, so -1 for 64 bits). */
    long max() {
        return max;
    }

    long get(byte[] block, int index) {
        if (bits < 8) {
            int perByte = 8 / bits;
            int shift = (index % perByte) * bits;
            return (block[index / perByte] >>> shift) & max;
        }
        int bytes = bits / 8;
        int at = index * bytes;
        long value = 0;
        for (int i = 0; i < bytes; i++) {
            value = (value << 8) | (block[at + i] & 0xff);
        }
        return value;
    }

    void set(byte[] block, int index, long value) {
        if (bits < 8) {
            int perByte = 8 / bits;
            int shift = (index % perByte) * bits;
            int at = index / perByte;
            int mask = (int) (max << shift);
            block[at] = (byte) ((block[at] & ~mask) | ((int) (value << shift) & mask));
            return;
        }
        int bytes = bits / 8;
        int at = index * bytes;
        for (int i = bytes - 1; i >= 0; i--) {
            block[at + i] = (byte) value;
            value >>>= 8;
        }
    }

    int order() {
        return order;
    }
}
