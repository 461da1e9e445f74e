package org.vdmount.formats;

import com.google.common.base.Throwables;
import com.google.common.util.concurrent.Uninterruptibles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Splits a large read of compressed blocks (of any format) into pieces decoded on several cores at
 * once: inflating is CPU bound, and a reader such as {@code vdmount cat} asks for one big range at a
 * time. The caller takes pieces too; the pool's threads never split again (a backing file's read
 * inside a piece runs in place), so a piece never waits on the pool and the pool cannot deadlock.
 * Used by {@link AbstractVirtualDisk#read}, never by formats themselves.
 */
final class ParallelReads {
    /**
     * Threads per read, the caller included. At least four, like qemu's own decompression threads:
     * on a machine shared with other work, a reader with more runnable threads keeps its share.
     */
    static final int THREADS = Math.max(4, Runtime.getRuntime().availableProcessors());
    /** Bytes per piece: a few clusters, so that pieces balance but a piece is worth a hand-off. */
    static final int PIECE_BYTES = 256 * 1024;
    /** Fewer compressed blocks than this in a read are decoded in place: a hand-off costs more. */
    static final int MIN_BLOCKS = 4;

    /** A range piece: read {@code length} bytes at virtual {@code offset} into {@code dst}. */
    @FunctionalInterface
    interface PieceReader {
        void read(ByteBuffer dst, long offset) throws IOException;
    }

    private static final class Worker extends Thread {
        Worker(Runnable task) {
            super(task, "vdmount-decompress");
            setDaemon(true);
        }
    }

    private static final class PoolHolder {
        static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), Worker::new);
    }

    private ParallelReads() {
    }

    /** Whether this thread may split a read: pool threads never do. */
    static boolean maySplit() {
        return !(Thread.currentThread() instanceof Worker);
    }

    /** Whether a read of this many compressed blocks should be split. */
    static boolean worthSplitting(int compressedBlocks) {
        return compressedBlocks >= MIN_BLOCKS && maySplit();
    }

    /**
     * Reads {@code [offset, offset + dst.remaining())} as small pieces cut on block boundaries,
     * which the caller and up to {@code THREADS - 1} pool threads claim in turn until none is left:
     * a thread the scheduler delays holds up one small piece, not a quarter of the read. The caller
     * waits for the pieces, never for helpers still queued behind other reads (they find nothing
     * left and return). Then advances {@code dst} past the range.
     */
    static void read(ByteBuffer dst, long offset, int blockSize, PieceReader reader) throws IOException {
        int length = dst.remaining();
        int base = dst.position();
        long end = offset + length;
        long firstBlock = offset - Math.floorMod(offset, (long) blockSize);
        long pieceBytes = (long) blockSize * Math.max(1, PIECE_BYTES / blockSize);
        int pieces = (int) ((end - firstBlock + pieceBytes - 1) / pieceBytes);
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(pieces);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable work = () -> {
            int i;
            while ((i = next.getAndIncrement()) < pieces) {
                try {
                    if (failure.get() == null) {
                        long from = Math.max(offset, firstBlock + i * pieceBytes);
                        long to = Math.min(end, firstBlock + (i + 1) * pieceBytes);
                        reader.read(slice(dst, base, offset, from, to), from);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            }
        };
        for (int t = 1; t < Math.min(THREADS, pieces); t++) {
            PoolHolder.POOL.execute(work);
        }
        work.run();
        // Every claimed piece is waited for, even after a failure: none may write into dst after we return.
        Uninterruptibles.awaitUninterruptibly(done);
        Throwable error = failure.get();
        if (error != null) {
            Throwables.throwIfInstanceOf(error, IOException.class);
            Throwables.throwIfUnchecked(error);
            throw new IOException(error);
        }
        dst.position(base + length);
    }

    private static ByteBuffer slice(ByteBuffer dst, int base, long offset, long from, long to) {
        return dst.duplicate().limit(base + (int) (to - offset)).position(base + (int) (from - offset));
    }
}
