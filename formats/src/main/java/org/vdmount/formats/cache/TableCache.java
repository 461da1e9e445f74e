package org.vdmount.formats.cache;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.util.concurrent.ExecutionException;

/**
 * Decoded lookup tables (qcow2 L2 tables, VMDK grain tables, pages of a VHD, VHDX, VDI or Parallels
 * block table) of every open image, in one cache bounded by bytes: memory stays bounded however
 * many images, chain members and extents are open. A table is loaded once even when several
 * threads want it at the same moment; the least recently used go first.
 */
public final class TableCache {
    /** 64 MiB: 512 GiB of qcow2 disk mapped at 64 KiB clusters, several VMs' working sets. */
    public static final long DEFAULT_BYTES = 64L << 20;

    private static final TableCache SHARED = new TableCache(DEFAULT_BYTES);

    /** Loads one table; called at most once at a time for a given table. */
    @FunctionalInterface
    public interface Loader {
        long[] load() throws IOException;
    }

    private final Cache<CacheKey, long[]> tables;

    /** A cache of its own, holding at most {@code budgetBytes} of tables (tests; one disk's tables). */
    public TableCache(long budgetBytes) {
        this.tables = CacheBuilder.newBuilder()
                .concurrencyLevel(1)
                .maximumWeight(budgetBytes)
                .weigher((CacheKey key, long[] table) -> weight(table))
                .build();
    }

    /** The cache every format uses. */
    public static TableCache shared() {
        return SHARED;
    }

    /** Table {@code index} of {@code owner}, loading it with {@code loader} when it is not held. */
    public long[] get(Object owner, long index, Loader loader) throws IOException {
        CacheKey key = new CacheKey(owner, index);
        long[] table = tables.getIfPresent(key);
        if (table != null) {
            return table;
        }
        try {
            return tables.get(key, loader::load);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /**
     * Holds {@code table} as table {@code index} of {@code owner}, replacing what is held: a writer
     * whose changed table is now on disk hands it back, so a copy loaded before the change is gone.
     */
    public void put(Object owner, long index, long[] table) {
        tables.put(new CacheKey(owner, index), table);
    }

    /** Drops the tables of {@code owner}, when it is closed. */
    public void clear(Object owner) {
        tables.asMap().keySet().removeIf(k -> k.owner() == owner);
    }

    /** Bytes of tables held now. */
    public long heldBytes() {
        long sum = 0;
        for (long[] t : tables.asMap().values()) {
            sum += weight(t);
        }
        return sum;
    }

    private static int weight(long[] table) {
        return Math.max(Long.BYTES, table.length * Long.BYTES);
    }
}
