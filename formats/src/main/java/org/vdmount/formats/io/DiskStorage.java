package org.vdmount.formats.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * The bytes of a virtual disk seen as a storage, so that an image format can be read from inside
 * another one's media (a VMDK file acquired into an E01). Closing it closes the disk.
 */
public final class DiskStorage implements Storage {
    private final VirtualDisk disk;
    private final String name;

    public DiskStorage(VirtualDisk disk, String name) {
        this.disk = disk;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<Path> path() {
        return Optional.empty();
    }

    @Override
    public long size() {
        return disk.size();
    }

    @Override
    public int readAt(ByteBuffer dst, long position) throws IOException {
        long size = disk.size();
        if (position >= size) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), size - position);
        ByteBuffer part = dst.slice().limit(n);
        disk.read(part, position);
        dst.position(dst.position() + n);
        return n;
    }

    @Override
    public void close() throws IOException {
        disk.close();
    }
}
