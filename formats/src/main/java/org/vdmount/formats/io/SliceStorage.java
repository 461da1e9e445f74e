package org.vdmount.formats.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;
import org.vdmount.formats.Storage;

/** A window of another storage, such as one disk stored inside an OVA archive. */
public final class SliceStorage implements Storage {
    private final Storage base;
    private final long start;
    private final long length;
    private final String name;

    public SliceStorage(Storage base, long start, long length, String name) {
        this.base = base;
        this.start = start;
        this.length = length;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<Path> path() {
        return base.path();
    }

    @Override
    public long size() {
        return length;
    }

    @Override
    public int readAt(ByteBuffer dst, long position) throws IOException {
        if (position >= length) {
            return -1;
        }
        long room = length - position;
        if (dst.remaining() > room) {
            ByteBuffer part = dst.slice().limit((int) room);
            int n = base.readAt(part, start + position);
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        return base.readAt(dst, start + position);
    }

    @Override
    public boolean copyTo(long position, long count, FileChannel target, Allocation allocation) throws IOException {
        if (position < 0 || count > length - position) {
            return false; // past the slice's end: readFully reports it
        }
        return base.copyTo(start + position, count, target, allocation);
    }

    /** Closing a slice leaves its base open: the base belongs to whoever made the slice. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name;
    }
}
