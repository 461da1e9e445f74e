package org.vdmount.formats.ova;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.vdmount.formats.Storage;

/** Reads a storage from the start, knowing its position: skipping moves it without reading. */
final class StorageInputStream extends InputStream {
    private final Storage storage;
    private long position;

    StorageInputStream(Storage storage) {
        this.storage = storage;
    }

    long position() {
        return position;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n = storage.readAt(ByteBuffer.wrap(b, off, len), position);
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long step = Math.max(0, Math.min(n, storage.size() - position));
        position += step;
        return step;
    }
}
