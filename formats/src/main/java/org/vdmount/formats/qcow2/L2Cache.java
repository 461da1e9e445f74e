package org.vdmount.formats.qcow2;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * L2 tables by host offset, decoded to {@code long[]} once and shared by every reader thread. Bounded
 * by bytes, not by entries: a table is one cluster, 512 bytes to 2 MiB.
 */
final class L2Cache {
    /** Covers 256 GiB of disk with 64 KiB clusters; a few times a busy VM's working set. */
    static final long DEFAULT_BYTES = 32L << 20;

    private final Storage storage;
    private final int clusterSize;
    private final long fileSize;
    private final Cache<Long, long[]> tables;

    L2Cache(Storage storage, int clusterSize, long fileSize, long maxBytes) {
        this.storage = storage;
        this.clusterSize = clusterSize;
        this.fileSize = fileSize;
        this.tables = CacheBuilder.newBuilder()
                .maximumWeight(Math.max(maxBytes, 4L * clusterSize))
                .weigher((Long key, long[] table) -> table.length * Long.BYTES)
                .build();
    }

    /** The L2 table at {@code offset}; {@code virtualOffset} only makes errors say where it was needed. */
    long[] get(long offset, long virtualOffset) throws IOException {
        long[] table = tables.getIfPresent(offset);
        if (table != null) {
            return table;
        }
        try {
            return tables.get(offset, () -> load(offset, virtualOffset));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    private long[] load(long offset, long virtualOffset) throws IOException {
        if ((offset & (clusterSize - 1)) != 0 || offset > fileSize - clusterSize) {
            throw new ImageException(storage.name(), "L2 table for virtual offset " + virtualOffset
                    + " is at host offset " + offset + ", which is unaligned or past the end of the "
                    + fileSize + "-byte file");
        }
        ByteBuffer bytes = ByteBuffer.allocate(clusterSize);
        storage.readFully(bytes, offset);
        bytes.flip();
        long[] table = new long[clusterSize / Long.BYTES];
        bytes.asLongBuffer().get(table);
        return table;
    }
}
