package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * The L2 tables of one image, decoded to {@code long[]} once and shared by every reader thread,
 * through the {@link TableCache} every format shares (a table is one cluster, 512 bytes to 2 MiB).
 * A writable image also pins the tables it has changed but not yet stored: those are never evicted
 * and readers see them first.
 */
final class L2Cache {
    private final Storage storage;
    private final int clusterSize;
    private volatile long fileSize;
    private final TableCache tables = TableCache.shared();
    private final Map<Long, long[]> pinned = new ConcurrentHashMap<>();

    L2Cache(Storage storage, int clusterSize, long fileSize) {
        this.storage = storage;
        this.clusterSize = clusterSize;
        this.fileSize = fileSize;
    }

    /** The L2 table at {@code offset}; {@code virtualOffset} only makes errors say where it was needed. */
    long[] get(long offset, long virtualOffset) throws IOException {
        long[] changed = pinned.get(offset);
        if (changed != null) {
            return changed;
        }
        return tables.get(this, offset, () -> load(offset, virtualOffset));
    }

    /** Keeps {@code table} as the table at {@code offset} until {@link #stored} says it is on disk. */
    void pin(long offset, long[] table) {
        pinned.put(offset, table);
    }

    /** The pinned table at {@code offset}, or null. */
    long[] pinned(long offset) {
        return pinned.get(offset);
    }

    /** The table at {@code offset} is on disk now: it moves back to the shared cache. */
    void stored(long offset) {
        long[] table = pinned.remove(offset);
        if (table != null) {
            tables.put(this, offset, table);
        }
    }

    /** The image file has grown to {@code size} bytes (tables written at its end become loadable). */
    void fileGrew(long size) {
        fileSize = Math.max(fileSize, size);
    }

    /** Drops this image's tables, when it is closed. */
    void clear() {
        tables.clear(this);
        pinned.clear();
    }

    private long[] load(long offset, long virtualOffset) throws IOException {
        long size = fileSize;
        if ((offset & (clusterSize - 1)) != 0 || offset > size - clusterSize) {
            throw new ImageException(storage.name(), "L2 table for virtual offset " + virtualOffset
                    + " is at host offset " + offset + ", which is unaligned or past the end of the "
                    + size + "-byte file");
        }
        ByteBuffer bytes = ByteBuffer.allocate(clusterSize);
        storage.readFully(bytes, offset);
        bytes.flip();
        long[] table = new long[clusterSize / Long.BYTES];
        bytes.asLongBuffer().get(table);
        return table;
    }
}
