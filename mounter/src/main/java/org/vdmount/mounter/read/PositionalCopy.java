package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.vdmount.formats.VirtualDisk;

/**
 * Copies a range of a disk into a file or block device that takes positional writes. Unlike
 * {@link OrderedReader}, nothing has to wait for order: each thread reads a chunk and writes it
 * at its place, so reading, decompressing, zero detection and writing all run on every core.
 * Into a regular file the copy is sparse: what the image does not store, and 4 KiB blocks of
 * zeros, are left as holes (the caller sets the final length).
 */
public final class PositionalCopy {
    static final int ZERO_BLOCK = 4096;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_BLOCK).asReadOnlyBuffer();

    private final ChunkReader chunks;
    private final int threads;
    private final int chunkSize;

    public PositionalCopy(VirtualDisk disk, int threads, int chunkSize) {
        this.chunks = new ChunkReader(disk);
        this.threads = Math.max(1, threads);
        this.chunkSize = chunkSize;
    }

    /**
     * Writes disk bytes {@code [offset, offset + length)} to {@code out} at positions starting at 0.
     * {@code progress} is told of each finished chunk's length, from any thread.
     */
    public void copy(long offset, long length, FileChannel out, boolean sparse, LongConsumer progress)
            throws IOException {
        AtomicLong nextChunk = new AtomicLong();
        long chunkCount = (length + chunkSize - 1) / chunkSize;
        List<Thread> workers = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < Math.min(threads, chunkCount); i++) {
            Thread t = new Thread(() -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(chunkSize, length));
                try {
                    for (long c = nextChunk.getAndIncrement(); c < chunkCount; c = nextChunk.getAndIncrement()) {
                        long at = offset + c * chunkSize;
                        int n = (int) Math.min(chunkSize, offset + length - at);
                        Chunk chunk = chunks.read(at, n, buffer);
                        if (sparse) {
                            writeStored(out, chunk, at - offset);
                        } else {
                            write(out, chunk.data().duplicate(), at - offset);
                        }
                        progress.accept(n);
                    }
                } catch (IOException | RuntimeException e) {
                    nextChunk.set(chunkCount); // the others stop at their next chunk
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                }
            }, "vdmount-copy");
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
        try {
            for (Thread t : workers) {
                t.join();
            }
        } catch (InterruptedException e) {
            nextChunk.set(chunkCount);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
        if (failure[0] != null) {
            Throwables.throwIfInstanceOf(failure[0], IOException.class);
            Throwables.throwIfUnchecked(failure[0]);
            throw new IOException(failure[0]);
        }
    }

    /** Writes the blocks of the chunk that the image stores and that are not all zeros. */
    private static void writeStored(FileChannel out, Chunk chunk, long outBase) throws IOException {
        ByteBuffer data = chunk.data();
        for (long[] range : chunk.stored()) {
            int from = (int) (range[0] - chunk.offset());
            int to = (int) (range[1] - chunk.offset());
            int runStart = -1;
            for (int at = from; at < to; at += ZERO_BLOCK) {
                int blockEnd = Math.min(to, at + ZERO_BLOCK);
                boolean zero = isZero(data, at, blockEnd);
                if (!zero && runStart < 0) {
                    runStart = at;
                } else if (zero && runStart >= 0) {
                    write(out, data.duplicate().position(runStart).limit(at), outBase + runStart);
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                write(out, data.duplicate().position(runStart).limit(to), outBase + runStart);
            }
        }
    }

    /** Vectorized by the JDK (ByteBuffer.mismatch), which a byte or long loop is not. */
    static boolean isZero(ByteBuffer data, int from, int to) {
        ByteBuffer block = data.duplicate().position(from).limit(to);
        return block.mismatch(ZEROS.duplicate().limit(to - from)) < 0;
    }

    private static void write(FileChannel out, ByteBuffer part, long position) throws IOException {
        long pos = position;
        while (part.hasRemaining()) {
            pos += out.write(part, pos);
        }
    }
}
