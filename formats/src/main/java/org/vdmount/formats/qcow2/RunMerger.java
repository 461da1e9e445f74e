package org.vdmount.formats.qcow2;

import java.io.IOException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * Joins per-cluster pieces into the fewest runs: neighbouring ZERO or BACKING pieces always, DATA
 * pieces when they are also neighbours in the same storage (so that one pread serves them), never
 * COMPRESSED pieces, whose locators differ. Allocates a {@link Run} only per emitted run.
 */
final class RunMerger {
    private final RunSink sink;
    private RunKind kind;
    private long offset;
    private long length;
    private Storage storage;
    private long host;

    RunMerger(RunSink sink) {
        this.sink = sink;
    }

    void add(RunKind newKind, long newOffset, long newLength, Storage newStorage, long newHost) throws IOException {
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

    void add(RunKind newKind, long newOffset, long newLength) throws IOException {
        add(newKind, newOffset, newLength, null, 0);
    }

    void flush() throws IOException {
        if (kind != null) {
            RunKind k = kind;
            kind = null;
            sink.accept(new Run(k, offset, length, storage, host));
        }
    }
}
