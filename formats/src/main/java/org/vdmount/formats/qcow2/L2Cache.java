package org.vdmount.formats.qcow2;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.CacheKey;

/**
 * L2 tables of one image, decoded to {@code long[]} once and shared by every reader thread. The
 * tables of all open images live in one cache bounded by bytes (a table is one cluster, 512 bytes
 * to 2 MiB), so memory stays bounded however many images and chain members are open.
 */
final class L2Cache {
    /** Covers 512 GiB of disk with 64 KiB clusters: several VMs' working sets. */
    static final long TOTAL_BYTES = 64L << 20;

    private static final Cache<CacheKey, long[]> TABLES = CacheBuilder.newBuilder()
            .maximumWeight(TOTAL_BYTES)
            .weigher((CacheKey key, long[] table) -> table.length * Long.BYTES)
            .build();

    private final Storage storage;
    private final int clusterSize;
    private final long fileSize;

    L2Cache(Storage storage, int clusterSize, long fileSize) {
        this.storage = storage;
        this.clusterSize = clusterSize;
        this.fileSize = fileSize;
    }

    /** The L2 table at {@code offset}; {@code virtualOffset} only makes errors say where it was needed. */
    long[] get(long offset, long virtualOffset) throws IOException {
        CacheKey key = new CacheKey(this, offset);
        long[] table = TABLES.getIfPresent(key);
        if (table != null) {
            return table;
        }
        try {
            return TABLES.get(key, () -> load(offset, virtualOffset));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Drops this image's tables, when it is closed. */
    void clear() {
        TABLES.asMap().keySet().removeIf(k -> k.owner() == this);
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
