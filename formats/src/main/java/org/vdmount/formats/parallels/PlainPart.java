package org.vdmount.formats.parallels;

import java.io.IOException;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/** A "Plain" storage of a bundle: a file whose bytes are its stretch of the disk. */
final class PlainPart implements Concatenation.Part, AutoCloseable {
    private final Storage storage;
    private final long length;

    PlainPart(Storage storage, long length) {
        this.storage = storage;
        this.length = length;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void map(long offset, long len, long base, RunSink sink) throws IOException {
        sink.accept(Run.data(base + offset, len, storage, offset));
    }

    @Override
    public void close() throws IOException {
        storage.close();
    }

    @Override
    public String toString() {
        return storage.name();
    }
}
