package org.vdmount.formats.raw;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/** The disk is the storage, byte for byte. */
public final class RawDisk extends AbstractVirtualDisk {
    private final Storage storage;
    private final DiskInfo info;

    public RawDisk(Storage storage) throws IOException {
        super(storage.size(), null);
        this.storage = storage;
        this.info = new DiskInfo(storage.name(), "raw").virtualSize(storage.size()).fileSize(storage.size());
        info.files().add(storage.name());
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        sink.accept(Run.data(offset, length, storage, offset));
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public boolean writable() {
        return storage.writable();
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkRange(offset, src.remaining());
        storage.writeAt(src, offset);
    }

    @Override
    public void flush() throws IOException {
        storage.flush();
    }

    @Override
    public void close() throws IOException {
        storage.close();
    }
}
