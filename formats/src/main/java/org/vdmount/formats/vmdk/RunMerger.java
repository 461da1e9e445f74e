package org.vdmount.formats.vmdk;

import java.io.IOException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * Joins grain-sized pieces into the longest runs it can: neighbouring holes or zeros become one run,
 * and grains stored one after another in the file become one DATA run, so that a large read costs
 * one pread. Compressed grains stay one run each: each is decoded on its own.
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

    void add(RunKind k, long off, long len, Storage st, long h) throws IOException {
        if (kind != null && k == kind && k != RunKind.COMPRESSED && offset + length == off
                && (k != RunKind.DATA || (st == storage && host + length == h))) {
            length += len;
            return;
        }
        flush();
        kind = k;
        offset = off;
        length = len;
        storage = st;
        host = h;
    }

    void flush() throws IOException {
        if (kind != null) {
            RunKind k = kind;
            kind = null;
            sink.accept(new Run(k, offset, length, k == RunKind.DATA || k == RunKind.COMPRESSED ? storage : null,
                    k == RunKind.DATA || k == RunKind.COMPRESSED ? host : 0));
        }
    }
}
