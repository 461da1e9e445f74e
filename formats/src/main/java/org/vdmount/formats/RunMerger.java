package org.vdmount.formats;

import java.io.IOException;

/**
 * Joins per-cluster (per-grain) pieces into the fewest runs, for formats' {@code mapLocal}:
 * neighbouring ZERO, UNALLOCATED or BACKING pieces always, DATA pieces when they are also
 * neighbours in the same storage (so that one pread serves them), never COMPRESSED pieces, whose
 * locators differ. Allocates a {@link Run} only per emitted run; call {@link #flush} at the end.
 */
public final class RunMerger {
    private final RunSink sink;
    private RunKind kind;
    private long offset;
    private long length;
    private Storage storage;
    private long host;

    public RunMerger(RunSink sink) {
        this.sink = sink;
    }

    public void add(RunKind newKind, long newOffset, long newLength, Storage newStorage, long newHost) throws IOException {
        if (kind == newKind && kind != RunKind.COMPRESSED && offset + length == newOffset
                && (kind != RunKind.DATA || (storage == newStorage && host + length == newHost))) {
            length += newLength;
            return;
        }
        flush();
        kind = newKind;
        offset = newOffset;
        length = newLength;
        storage = newStorage;
        host = newHost;
    }

    public void add(RunKind newKind, long newOffset, long newLength) throws IOException {
        add(newKind, newOffset, newLength, null, 0);
    }

    public void flush() throws IOException {
        if (kind != null) {
            RunKind k = kind;
            kind = null;
            boolean stored = k == RunKind.DATA || k == RunKind.COMPRESSED;
            sink.accept(new Run(k, offset, length, stored ? storage : null, stored ? host : 0));
        }
    }
}
