package org.vdmount.mounter.read;

import com.google.common.base.Throwables;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.Allocation;

/**
 * Copies a range of a disk into a file or block device that takes positional writes. Unlike
 * {@link OrderedReader}, nothing has to wait for order: each thread takes a chunk, maps it and
 * writes it at its place, so reading, decompressing, zero detection and writing run on every core.
 * <ul>
 * <li>Stretches the image stores as they are (raw, plain qcow2 clusters, VMDK grains: DATA runs in
 * a stretch of a plain file with no hole: {@link FileHoles}) are copied by the kernel
 * ({@link org.vdmount.formats.Storage#copyTo}), one system call per stretch, never through a buffer
 * of ours: the copy costs what the kernel's page-cache copy costs, less than a read and a write.
 * Zeros stored in them are copied as data, unless {@code scanZeros} asks for them to be found.</li>
 * <li>Everything else (compressed data, stretches with holes, and every stored stretch
 * when {@code scanZeros}) is read into a buffer; its 4 KiB blocks of zeros are not written.</li>
 * <li>Into a regular file, what the image does not store (holes, zero clusters) is left as holes
 * (the caller sets the final length); into anything else it is written as zeros.</li>
 * </ul>
 */
public final class PositionalCopy {
    static final int ZERO_BLOCK = 4096;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_BLOCK).asReadOnlyBuffer();

    private final VirtualDisk disk;
    private final int threads;
    private final int chunkSize;
    private final boolean scanZeros;

    public PositionalCopy(VirtualDisk disk, int threads, int chunkSize, boolean scanZeros) {
        this.disk = disk;
        this.threads = Math.max(1, threads);
        this.chunkSize = chunkSize;
        this.scanZeros = scanZeros;
    }

    /**
     * Writes disk bytes {@code [offset, offset + length)} to {@code output} at positions starting at
     * 0; each thread opens it for writing. {@code sparse}: the output is a regular file whose
     * unwritten parts read as zeros. {@code progress} is told of each finished chunk's length, from
     * any thread.
     */
    public void copy(long offset, long length, Path output, boolean sparse, LongConsumer progress) throws IOException {
        if (scanZeros) {
            copy(offset, length, output, sparse, Allocation.UNKNOWN, progress);
            return;
        }
        try (FileHoles holes = new FileHoles()) {
            copy(offset, length, output, sparse, holes, progress);
        }
    }

    private void copy(long offset, long length, Path output, boolean sparse, Allocation allocation,
            LongConsumer progress) throws IOException {
        AtomicLong nextChunk = new AtomicLong();
        long chunkCount = (length + chunkSize - 1) / chunkSize;
        List<Thread> workers = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < Math.min(threads, chunkCount); i++) {
            Thread t = new Thread(() -> {
                try (FileChannel out = FileChannel.open(output, StandardOpenOption.WRITE)) {
                    Writer writer = new Writer(out, offset, sparse, allocation, (int) Math.min(chunkSize, length));
                    for (long c = nextChunk.getAndIncrement(); c < chunkCount; c = nextChunk.getAndIncrement()) {
                        long at = offset + c * chunkSize;
                        int n = (int) Math.min(chunkSize, offset + length - at);
                        writer.chunk(at, n);
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

    /** One thread's output channel and buffer, and the copy of one chunk at a time. */
    private final class Writer {
        private final FileChannel out;
        private final long base;
        private final boolean sparse;
        private final Allocation allocation;
        private final ByteBuffer buffer;
        /** The chunk's runs, adjacent stored stretches of one file joined. */
        private final List<Run> runs = new ArrayList<>();
        /** Start of the stretch waiting to go through the buffer, or -1. */
        private long pendingStart = -1;
        private long pendingEnd;

        Writer(FileChannel out, long base, boolean sparse, Allocation allocation, int bufferSize) {
            this.out = out;
            this.base = base;
            this.sparse = sparse;
            this.allocation = allocation;
            this.buffer = ByteBuffer.allocateDirect(bufferSize);
        }

        void chunk(long at, int n) throws IOException {
            runs.clear();
            disk.map(at, n, run -> {
                Run last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
                if (last != null && joinable(last, run)) {
                    runs.set(runs.size() - 1, Run.data(last.offset(), last.length() + run.length(), last.storage(),
                            last.hostOffset()));
                } else {
                    runs.add(run);
                }
            });
            for (Run run : runs) {
                if (run.kind() == RunKind.DATA && copiedByKernel(run)) {
                    continue;
                }
                if (run.kind().readsAsZero() && sparse) {
                    flushPending();
                    continue; // a hole in the output already
                }
                if (pendingStart < 0) {
                    pendingStart = run.offset();
                }
                pendingEnd = run.end();
            }
            flushPending();
        }

        private boolean joinable(Run a, Run b) {
            return a.kind() == RunKind.DATA && b.kind() == RunKind.DATA && a.storage() == b.storage()
                    && a.end() == b.offset() && a.hostOffset() + a.length() == b.hostOffset();
        }

        /** Copies a stored stretch inside the kernel, if its storage can; else leaves it to the buffer. */
        private boolean copiedByKernel(Run run) throws IOException {
            flushPending();
            out.position(run.offset() - base);
            return run.storage().copyTo(run.hostOffset(), run.length(), out, allocation);
        }

        /** Reads the waiting stretch through the buffer and writes what is not zeros (all, if not sparse). */
        private void flushPending() throws IOException {
            if (pendingStart < 0) {
                return;
            }
            long start = pendingStart;
            int n = (int) (pendingEnd - start);
            pendingStart = -1;
            ByteBuffer data = buffer.clear().limit(n);
            disk.read(data, start); // holes read as zeros without touching the image
            data.flip();
            if (sparse) {
                writeNonZero(data, start - base);
            } else {
                write(data, start - base);
            }
        }

        /** Writes the 4 KiB blocks of {@code data} that are not all zeros, joined into runs. */
        private void writeNonZero(ByteBuffer data, long outPosition) throws IOException {
            int to = data.limit();
            int runStart = -1;
            for (int at = 0; at < to; at += ZERO_BLOCK) {
                int blockEnd = Math.min(to, at + ZERO_BLOCK);
                boolean zero = isZero(data, at, blockEnd);
                if (!zero && runStart < 0) {
                    runStart = at;
                } else if (zero && runStart >= 0) {
                    write(data.duplicate().position(runStart).limit(at), outPosition + runStart);
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                write(data.duplicate().position(runStart).limit(to), outPosition + runStart);
            }
        }

        private void write(ByteBuffer part, long position) throws IOException {
            long pos = position;
            while (part.hasRemaining()) {
                pos += out.write(part, pos);
            }
        }
    }

    /** Vectorized by the JDK (ByteBuffer.mismatch), which a byte or long loop is not. */
    static boolean isZero(ByteBuffer data, int from, int to) {
        ByteBuffer block = data.duplicate().position(from).limit(to);
        return block.mismatch(ZEROS.duplicate().limit(to - from)) < 0;
    }
}
