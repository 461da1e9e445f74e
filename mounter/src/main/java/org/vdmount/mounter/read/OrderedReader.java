package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.Buffers;

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

    private final VirtualDisk disk;
    private final int threads;
    private final int chunkSize;

    public OrderedReader(VirtualDisk disk, int threads, int chunkSize) {
        this.disk = disk;
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
        long chunks = (length + chunkSize - 1) / chunkSize;
        for (int i = 0; i < Math.min(window, chunks); i++) {
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
                    pending.add(pool.submit(() -> readChunk(at, n, buffer)));
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

    private Chunk readChunk(long at, int n, ByteBuffer buffer) throws IOException {
        buffer.clear().limit(n);
        List<long[]> stored = new ArrayList<>();
        disk.map(at, n, run -> {
            if (run.kind().readsAsZero()) {
                return;
            }
            if (run.kind() != RunKind.UNREADABLE && !stored.isEmpty() && stored.get(stored.size() - 1)[1] == run.offset()) {
                stored.get(stored.size() - 1)[1] = run.end();
            } else {
                stored.add(new long[] {run.offset(), run.end()});
            }
        });
        int filled = 0;
        for (long[] range : stored) {
            zero(buffer, filled, (int) (range[0] - at));
            ByteBuffer part = buffer.duplicate().position((int) (range[0] - at)).limit((int) (range[1] - at));
            disk.read(part, range[0]);
            filled = (int) (range[1] - at);
        }
        zero(buffer, filled, n);
        buffer.position(0).limit(n);
        return new Chunk(at, buffer, stored);
    }

    private static void zero(ByteBuffer buffer, int from, int to) {
        Buffers.fillZeros(buffer.duplicate().position(from).limit(to));
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
