package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * Extents without tables: FLAT (and VMFS, raw device maps), ZERO and NOACCESS. A flat extent opened
 * for writing takes writes at the same place reads come from.
 */
final class SimpleExtent implements Extent {
    /** Zeros written per write when a flat extent is discarded: bounded memory whatever the range. */
    private static final int ZERO_PIECE = 1 << 20;

    private final RunKind kind;
    private final long length;
    private final Storage storage;
    private final long start;
    private final String unwritable;

    private SimpleExtent(RunKind kind, long length, Storage storage, long start, String unwritable) {
        this.kind = kind;
        this.length = length;
        this.storage = storage;
        this.start = start;
        this.unwritable = unwritable;
    }

    /**
     * Bytes stored as they are in {@code storage}, from byte {@code start}; {@code unwritable} says
     * why they may not be written (null: they may, when the storage is open for writing).
     */
    static SimpleExtent flat(long length, Storage storage, long start, String unwritable) {
        return new SimpleExtent(RunKind.DATA, length, storage, start, unwritable);
    }

    static SimpleExtent flat(long length, Storage storage, long start) {
        return flat(length, storage, start, null);
    }

    static SimpleExtent zero(long length) {
        return new SimpleExtent(RunKind.ZERO, length, null, 0, "it is a ZERO extent, which stores nothing");
    }

    static SimpleExtent noAccess(long length) {
        return new SimpleExtent(RunKind.UNREADABLE, length, null, 0, "it is a NOACCESS extent");
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void map(long offset, long len, long base, RunSink sink) throws IOException {
        if (kind == RunKind.DATA) {
            sink.accept(Run.data(base + offset, len, storage, start + offset));
        } else {
            sink.accept(Run.of(kind, base + offset, len));
        }
    }

    @Override
    public String unwritable() {
        if (unwritable != null) {
            return unwritable;
        }
        return storage.writable() ? null : "its file is open read-only";
    }

    @Override
    public void write(ByteBuffer src, long offset, long base, Beneath beneath) throws IOException {
        String why = unwritable();
        if (why != null) {
            throw new ImageException(toString(), "cannot write " + src.remaining() + " bytes at offset "
                    + (base + offset) + ": " + why);
        }
        storage.writeAt(src, start + offset);
    }

    /** A ZERO extent already reads as zeros; a flat one gets them written. */
    @Override
    public void discard(long offset, long len, long base, Beneath beneath) throws IOException {
        if (kind == RunKind.ZERO) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(len, ZERO_PIECE));
        for (long done = 0; done < len; ) {
            int n = (int) Math.min(zeros.capacity(), len - done);
            write(zeros.clear().limit(n), offset + done, base, beneath);
            done += n;
        }
    }

    @Override
    public void flush() throws IOException {
        if (storage != null && storage.writable()) {
            storage.flush();
        }
    }

    @Override
    public void close() throws IOException {
        if (storage != null) {
            storage.close();
        }
    }

    @Override
    public String toString() {
        return storage == null ? kind.toString() : storage.name();
    }
}
