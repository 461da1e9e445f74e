package org.vdmount.formats.ova;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import org.vdmount.formats.Storage;

/** A read-only channel view of a storage, so Commons Compress can list the entries of a tar in it. */
final class StorageChannel implements SeekableByteChannel {
    private final Storage storage;
    private long position;
    private boolean open = true;

    StorageChannel(Storage storage) {
        this.storage = storage;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = storage.readAt(dst, position);
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) {
        position = newPosition;
        return this;
    }

    @Override
    public long size() throws IOException {
        return storage.size();
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /** Leaves the storage open: it belongs to the OVA disk. */
    @Override
    public void close() {
        open = false;
    }
}
