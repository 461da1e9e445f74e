package org.vdmount.formats.overlay;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Two bits per block, packed in longs: which blocks the overlay holds, and which are zeros. */
final class BlockStates {
    static final int BASE = 0;
    static final int DATA = 1;
    static final int ZERO = 2;

    private final long[] words;
    private final long blocks;

    BlockStates(long blocks) {
        this.blocks = blocks;
        this.words = new long[(int) ((blocks + 31) / 32)];
    }

    long blocks() {
        return blocks;
    }

    synchronized int get(long block) {
        return (int) (words[(int) (block >>> 5)] >>> ((block & 31) * 2)) & 3;
    }

    synchronized void set(long block, int state) {
        int w = (int) (block >>> 5);
        int shift = (int) ((block & 31) * 2);
        words[w] = (words[w] & ~(3L << shift)) | ((long) state << shift);
    }

    synchronized ByteBuffer encode(int bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (long word : words) {
            b.putLong(word);
        }
        return b.clear();
    }

    synchronized void decode(ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < words.length; i++) {
            words[i] = b.getLong(i * 8);
        }
    }
}
