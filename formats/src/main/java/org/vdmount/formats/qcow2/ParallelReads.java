package org.vdmount.formats.qcow2;

import com.google.common.util.concurrent.Uninterruptibles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Splits a large read of compressed clusters into pieces decoded on several cores at once: inflating
 * is CPU bound, and a reader such as {@code vdmount cat} asks for one big range at a time. The caller
 * decodes one piece itself; the pool's threads never split again (a backing file's read inside a
 * piece runs in place), so a piece never waits on the pool and the pool cannot deadlock.
 */
final class ParallelReads {
    /**
     * Pieces per read. At least four, like qemu's own decompression threads: on a machine shared
     * with other work, a reader with more runnable threads keeps its share of the cores.
     */
    static final int THREADS = Math.max(4, Runtime.getRuntime().availableProcessors());

    /** A range piece: read {@code length} bytes at virtual {@code offset} into {@code dst}. */
    @FunctionalInterface
    interface PieceReader {
        void read(ByteBuffer dst, long offset) throws IOException;
    }

    private static final class Worker extends Thread {
        Worker(Runnable task) {
            super(task, "qcow2-decompress");
            setDaemon(true);
        }
    }

    private static final class PoolHolder {
        static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), Worker::new);
    }

    private ParallelReads() {
    }

    /** Whether a read of this many compressed clusters should be split here. */
    static boolean worthSplitting(int compressedClusters) {
        return compressedClusters >= 4 && !(Thread.currentThread() instanceof Worker);
    }

    /**
     * Reads {@code [offset, offset + dst.remaining())} in up to {@link #THREADS} pieces cut on
     * cluster boundaries, then advances {@code dst} past it.
     */
    static void read(ByteBuffer dst, long offset, int clusterSize, PieceReader reader) throws IOException {
        int length = dst.remaining();
        int base = dst.position();
        long end = offset + length;
        int pieces = THREADS;
        long[] cuts = new long[pieces + 1];
        cuts[0] = offset;
        cuts[pieces] = end;
        for (int i = 1; i < pieces; i++) {
            long cut = (offset + (long) length * i / pieces) & -(long) clusterSize;
            cuts[i] = Math.min(end, Math.max(cuts[i - 1], cut));
        }
        List<Future<?>> others = new ArrayList<>();
        for (int i = 1; i < pieces; i++) {
            if (cuts[i + 1] > cuts[i]) {
                ByteBuffer part = slice(dst, base, offset, cuts[i], cuts[i + 1]);
                long at = cuts[i];
                others.add(PoolHolder.POOL.submit(() -> {
                    try {
                        reader.read(part, at);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
        }
        IOException failure = null;
        try {
            if (cuts[1] > cuts[0]) {
                reader.read(slice(dst, base, offset, cuts[0], cuts[1]), cuts[0]);
            }
        } catch (IOException e) {
            failure = e;
        }
        // Every piece is waited for, even after a failure: none may write into dst after we return.
        for (Future<?> f : others) {
            try {
                Uninterruptibles.getUninterruptibly(f);
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof UncheckedIOException u ? u.getCause()
                            : new IOException(e.getCause());
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        dst.position(base + length);
    }

    private static ByteBuffer slice(ByteBuffer dst, int base, long offset, long from, long to) {
        return dst.duplicate().limit(base + (int) (to - offset)).position(base + (int) (from - offset));
    }
}
