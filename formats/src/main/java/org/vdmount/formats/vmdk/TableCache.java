package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.vdmount.formats.io.CacheKey;

/**
 * Grain tables recently used by any extent of one disk, decoded, bounded by the number of entries
 * held: a disk split in thousands of extents shares one budget instead of one each. Least recently
 * used tables go first. Loading happens outside the lock, so a slow read never blocks other readers
 * (two threads may load the same table at once; both get the same bytes).
 */
final class TableCache {
    /** 4 Mi entries of 8 bytes: 32 MiB, enough to map 256 GiB of 64 KiB grains without a re-read. */
    static final long MAX_ENTRIES = 4L << 20;

    @FunctionalInterface
    interface Loader {
        long[] load() throws IOException;
    }

    private final long budget;
    private final LinkedHashMap<CacheKey, long[]> tables = new LinkedHashMap<>(64, 0.75f, true);
    private long held;

    TableCache() {
        this(MAX_ENTRIES);
    }

    TableCache(long budget) {
        this.budget = budget;
    }

    long[] get(Object owner, long table, Loader loader) throws IOException {
        CacheKey key = new CacheKey(owner, table);
        synchronized (this) {
            long[] cached = tables.get(key);
            if (cached != null) {
                return cached;
            }
        }
        long[] loaded = loader.load();
        synchronized (this) {
            long[] previous = tables.put(key, loaded);
            held += weight(loaded) - (previous == null ? 0 : weight(previous));
            Iterator<Map.Entry<CacheKey, long[]>> eldest = tables.entrySet().iterator();
            while (held > budget && eldest.hasNext()) {
                Map.Entry<CacheKey, long[]> e = eldest.next();
                if (e.getKey().equals(key)) {
                    continue;
                }
                held -= weight(e.getValue());
                eldest.remove();
            }
        }
        return loaded;
    }

    synchronized long held() {
        return held;
    }

    private static long weight(long[] table) {
        return Math.max(1, table.length);
    }
}
