package org.vdmount.formats.vmdk;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.util.concurrent.UncheckedExecutionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;

/**
 * Grain tables recently used by any extent of one disk, decoded, bounded by the number of entries
 * held: a disk split in thousands of extents shares one budget instead of one each.
 */
final class TableCache {
    /** 4 Mi entries of 8 bytes: 32 MiB, enough to map 256 GiB of 64 KiB grains without a re-read. */
    private static final long MAX_ENTRIES = 4L << 20;

    @FunctionalInterface
    interface Loader {
        long[] load() throws IOException;
    }

    private record Key(Object owner, long table) {
    }

    private final Cache<Key, long[]> cache = CacheBuilder.newBuilder()
            .maximumWeight(MAX_ENTRIES)
            .weigher((Key k, long[] v) -> Math.max(1, v.length))
            .concurrencyLevel(4)
            .build();

    long[] get(Object owner, long table, Loader loader) throws IOException {
        try {
            return cache.get(new Key(owner, table), () -> {
                try {
                    return loader.load();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (ExecutionException | UncheckedExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(cause);
        }
    }
}
