package org.vdmount.mounter.read;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A stretch of the disk read ahead by {@link OrderedReader}.
 *
 * @param offset virtual offset of the first byte
 * @param data   the bytes (holes already zero); position 0, limit = length
 * @param stored the sub-ranges, as absolute [start, end) pairs, that the image stores (DATA or
 *               COMPRESSED); the rest is known to be zero and needs no writing to a sparse file
 */
public record Chunk(long offset, ByteBuffer data, List<long[]> stored) {

    public long length() {
        return data.limit();
    }

    public boolean isHole() {
        return stored.isEmpty();
    }
}
