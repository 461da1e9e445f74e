package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.vdmount.formats.VirtualDisk;

/**
 * Reads a range of a disk with several threads (so decompression and I/O overlap) and hands the
 * chunks to one consumer in disk order. Memory is bounded: a fixed pool of chunk buffers is reused.
 */
public final class OrderedReader {
    /** Chunk size: large enough for big preads, small enough that a few per thread stay cheap. */
    public static final int DEFAULT_CHUNK = 4 << 20;

    /** Receives chunks in order; the chunk's buffer is reused after {@code accept} returns. */
    @FunctionalInterface
    public interface Consumer {
        void accept(Chunk chunk) throws IOException;
    }

    private final ChunkReader chunks;
    private final int threads;
    private final int chunkSize;

    public OrderedReader(VirtualDisk disk, int threads, int chunkSize) {
        this.chunks = new ChunkReader(disk);
        this.threads = Math.max(1, threads);
        this.chunkSize = chunkSize;
    }

    /** A reader with one thread per core, which suits decompression-bound formats. */
    public static OrderedReader forDisk(VirtualDisk disk) {
        return new OrderedReader(disk, Runtime.getRuntime().availableProcessors(), DEFAULT_CHUNK);
    }

    public void read(long offset, long length, Consumer consumer) throws IOException {
        if (length <= 0) {
            return;
        }
        int window = threads * 2;
        BlockingQueue<ByteBuffer> buffers = new ArrayBlockingQueue<>(window);
        long chunkCount = (length + chunkSize - 1) / chunkSize;
        for (int i = 0; i < Math.min(window, chunkCount); i++) {
            buffers.add(ByteBuffer.allocateDirect((int) Math.min(chunkSize, length)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "vdmount-read");
            t.setDaemon(true);
            return t;
        });
        Deque<Future<Chunk>> pending = new ArrayDeque<>();
        try {
            long next = offset;
            long end = offset + length;
            while (next < end || !pending.isEmpty()) {
                while (next < end && pending.size() < window) {
                    long at = next;
                    int n = (int) Math.min(chunkSize, end - at);
                    ByteBuffer buffer = buffers.take();
                    pending.add(pool.submit(() -> chunks.read(at, n, buffer)));
                    next += n;
                }
                Chunk chunk = await(pending.removeFirst());
                try {
                    consumer.accept(chunk);
                } finally {
                    buffers.add(chunk.data());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } finally {
            pool.shutdownNow();
        }
    }

    private static Chunk await(Future<Chunk> future) throws IOException, InterruptedException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            Throwables.throwIfInstanceOf(cause, IOException.class);
            Throwables.throwIfUnchecked(cause);
            throw new IOException(cause);
        }
    }
}
