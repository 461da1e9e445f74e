package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.vdmount.formats.io.Buffers;

/**
 * The one place where reading and mapping are built from a format's {@link #mapLocal} description.
 * A format supplies the mapping of its own layer (and, if it compresses, a decoder); backing files,
 * zeros, hole resolution, the coalescing of adjacent reads and the decoding of compressed blocks on
 * several cores all happen here.
 */
public abstract class AbstractVirtualDisk implements VirtualDisk {
    private final long size;
    private final VirtualDisk backing;

    protected AbstractVirtualDisk(long size, VirtualDisk backing) {
        this.size = size;
        this.backing = backing;
    }

    @Override
    public final long size() {
        return size;
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return Optional.ofNullable(backing);
    }

    /**
     * Describes {@code [offset, offset + length)} of this layer alone: DATA, COMPRESSED, ZERO,
     * BACKING (not allocated here) or UNREADABLE runs, in order, contiguous, covering the range
     * exactly. The range is already checked to lie within the disk.
     */
    protected abstract void mapLocal(long offset, long length, RunSink sink) throws IOException;

    /**
     * Fills {@code dst} with the bytes of the COMPRESSED {@code run}, starting at its virtual offset.
     * Formats that compress override this.
     */
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        throw new ImageException(info().name(), "compressed data at offset " + run.offset()
                + " but the format has no decoder");
    }

    /**
     * The size of the blocks this layer stores compressed (the largest, if they differ), or 0 when
     * it never compresses. Large reads of compressed data are then decoded on several cores at once,
     * in pieces cut on multiples of this size.
     */
    protected int compressedBlockSize() {
        return 0;
    }

    /** Called for UNREADABLE runs; the message should say why the range cannot be read. */
    protected IOException unreadable(Run run) {
        return new ImageException(info().name(), "range at offset " + run.offset()
                + " (" + run.length() + " bytes) is not accessible");
    }

    protected final void checkRange(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new ImageException(info().name(), "access of " + length + " bytes at offset "
                    + offset + " is outside the disk (" + size + " bytes)");
        }
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        int block = compressedBlockSize();
        if (block > 0 && length >= (long) ParallelReads.MIN_BLOCKS * block && ParallelReads.maySplit()
                && ParallelReads.worthSplitting(compressedRuns(offset, length))) {
            ParallelReads.read(dst, offset, block, this::readInPlace);
            return;
        }
        readInPlace(dst, offset);
    }

    /** How many COMPRESSED runs (one per block: they are never merged) the range has in this layer. */
    private int compressedRuns(long offset, long length) throws IOException {
        int[] count = {0};
        mapLocal(offset, length, run -> {
            if (run.kind() == RunKind.COMPRESSED) {
                count[0]++;
            }
        });
        return count[0];
    }

    /** Reads the range in this thread: one mapping, then one pread per stretch of adjacent data. */
    private void readInPlace(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        ContiguousReader reader = new ContiguousReader(dst, offset);
        mapLocal(offset, length, reader);
        reader.finish();
        dst.position(dst.position() + length);
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        mapLocal(offset, length, run -> {
            if (run.kind() != RunKind.BACKING) {
                sink.accept(run);
                return;
            }
            long backingEnd = backing == null ? 0 : Math.min(run.end(), backing.size());
            if (backingEnd > run.offset()) {
                backing.map(run.offset(), backingEnd - run.offset(), sink);
            }
            if (run.end() > Math.max(backingEnd, run.offset())) {
                long from = Math.max(backingEnd, run.offset());
                sink.accept(Run.of(RunKind.UNALLOCATED, from, run.end() - from));
            }
        });
    }

    /** Reads the parts of this layer the backing disk decides, zeros past the backing's end. */
    private void readBacking(ByteBuffer part, long offset) throws IOException {
        long end = offset + part.remaining();
        long backingEnd = backing == null ? offset : Math.max(offset, Math.min(end, backing.size()));
        if (backingEnd > offset) {
            ByteBuffer head = part.slice().limit((int) (backingEnd - offset));
            backing.read(head, offset);
            part.position(part.position() + head.limit());
        }
        Buffers.fillZeros(part);
    }

    /**
     * Turns runs into reads, joining DATA runs that are adjacent in the same storage into one pread,
     * so a large read of contiguous clusters costs one system call.
     */
    private final class ContiguousReader implements RunSink {
        private final ByteBuffer dst;
        private final int base;
        private final long start;
        private Run pending;

        ContiguousReader(ByteBuffer dst, long start) {
            this.dst = dst;
            this.base = dst.position();
            this.start = start;
        }

        @Override
        public void accept(Run run) throws IOException {
            if (pending != null && run.kind() == RunKind.DATA && pending.storage() == run.storage()
                    && pending.end() == run.offset()
                    && pending.hostOffset() + pending.length() == run.hostOffset()) {
                pending = Run.data(pending.offset(), pending.length() + run.length(), run.storage(),
                        pending.hostOffset());
                return;
            }
            flushPending();
            if (run.kind() == RunKind.DATA) {
                pending = run;
            } else {
                readRun(run);
            }
        }

        void finish() throws IOException {
            flushPending();
        }

        private void flushPending() throws IOException {
            if (pending != null) {
                Run run = pending;
                pending = null;
                readRun(run);
            }
        }

        private void readRun(Run run) throws IOException {
            int at = base + (int) (run.offset() - start);
            ByteBuffer part = dst.duplicate().position(at).limit(at + (int) run.length());
            switch (run.kind()) {
                case DATA -> readData(run, part);
                case COMPRESSED -> readCompressed(run, part);
                case ZERO, UNALLOCATED -> Buffers.fillZeros(part);
                case BACKING -> readBacking(part, run.offset());
                case UNREADABLE -> throw unreadable(run);
            }
        }

        private void readData(Run run, ByteBuffer part) throws IOException {
            // Bytes a file does not have (an image truncated after its tables were written) read as
            // an error, never as silent zeros: an examiner must know the evidence is incomplete.
            run.storage().readFully(part, run.hostOffset());
        }
    }
}
