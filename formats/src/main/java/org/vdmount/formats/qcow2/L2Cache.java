package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * The L2 tables of one image, decoded to {@code long[]} once and shared by every reader thread,
 * through the {@link TableCache} every format shares (a table is one cluster, 512 bytes to 2 MiB).
 */
final class L2Cache {
    private final Storage storage;
    private final int clusterSize;
    private final long fileSize;
    private final TableCache tables = TableCache.shared();

    L2Cache(Storage storage, int clusterSize, long fileSize) {
        this.storage = storage;
        this.clusterSize = clusterSize;
        this.fileSize = fileSize;
    }

    /** The L2 table at {@code offset}; {@code virtualOffset} only makes errors say where it was needed. */
    long[] get(long offset, long virtualOffset) throws IOException {
        return tables.get(this, offset, () -> load(offset, virtualOffset));
    }

    /** Drops this image's tables, when it is closed. */
    void clear() {
        tables.clear(this);
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
