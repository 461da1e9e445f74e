package org.vdmount.formats.vmdk;

import java.io.IOException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/** Extents without tables: FLAT (and VMFS, raw device maps), ZERO and NOACCESS. */
final class SimpleExtent implements Extent {
    private final RunKind kind;
    private final long length;
    private final Storage storage;
    private final long start;

    private SimpleExtent(RunKind kind, long length, Storage storage, long start) {
        this.kind = kind;
        this.length = length;
        this.storage = storage;
        this.start = start;
    }

    /** Bytes stored as they are in {@code storage}, from byte {@code start}. */
    static SimpleExtent flat(long length, Storage storage, long start) {
        return new SimpleExtent(RunKind.DATA, length, storage, start);
    }

    static SimpleExtent zero(long length) {
        return new SimpleExtent(RunKind.ZERO, length, null, 0);
    }

    static SimpleExtent noAccess(long length) {
        return new SimpleExtent(RunKind.UNREADABLE, length, null, 0);
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
