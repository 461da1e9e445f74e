package org.vdmount.formats.io;

import java.nio.ByteBuffer;

/** Buffer chores every reader needs. */
public final class Buffers {
    /** Copied from in bulk: a byte-by-byte fill of a large hole costs as much as reading it. */
    private static final byte[] ZEROS = new byte[64 * 1024];

    private Buffers() {
    }

    /** Fills the remaining bytes of {@code dst} with zeros, advancing its position to its limit. */
    public static void fillZeros(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            dst.put(ZEROS, 0, Math.min(ZEROS.length, dst.remaining()));
        }
    }
}
