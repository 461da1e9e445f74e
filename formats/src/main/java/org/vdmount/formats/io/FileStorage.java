package org.vdmount.formats.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/** A regular file or a block device, read with pread so that any number of threads may share it. */
public final class FileStorage implements Storage {
    private final Path path;
    private final String name;
    private final FileChannel channel;
    private final boolean writable;
    private final long blockDeviceSize;
    /** The image lock that lasts as long as this storage (none unless {@link #holding} gave one). */
    private volatile ImageLock lock = ImageLock.none();

    private FileStorage(Path path, String name, FileChannel channel, boolean writable, long blockDeviceSize) {
        this.path = path;
        this.name = name;
        this.channel = channel;
        this.writable = writable;
        this.blockDeviceSize = blockDeviceSize;
    }

    /** Opens {@code path} read-only; {@code name} is what error messages call it. */
    public static FileStorage openReadOnly(Path path, String name) throws IOException {
        return open(path, name, false);
    }

    public static FileStorage open(Path path, String name, boolean writable) throws IOException {
        if (Files.isDirectory(path)) {
            throw new ImageException(name, "is a directory, not an image");
        }
        FileChannel channel;
        try {
            channel = writable
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ImageException(name, "no such file");
        } catch (AccessDeniedException e) {
            throw new ImageException(name, "permission denied");
        } catch (IOException e) {
            throw new ImageException(name, "cannot open: " + e.getMessage());
        }
        long deviceSize = -1;
        if (BlockDevices.isBlockDevice(path)) {
            deviceSize = BlockDevices.size(path);
        }
        return new FileStorage(path, name, channel, writable, deviceSize);
    }

    /**
     * Makes {@code held} (the lock taken on this file for its use) last as long as this storage:
     * closing the storage releases it. Returns this storage.
     */
    public FileStorage holding(ImageLock held) {
        this.lock = held;
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<Path> path() {
        return Optional.of(path);
    }

    @Override
    public long size() throws IOException {
        return blockDeviceSize >= 0 ? blockDeviceSize : channel.size();
    }

    @Override
    public int readAt(ByteBuffer dst, long position) throws IOException {
        if (position < 0) {
            throw new ImageException(name, "negative offset " + position);
        }
        if (blockDeviceSize >= 0 && position >= blockDeviceSize) {
            return -1;
        }
        return channel.read(dst, position);
    }

    @Override
    public boolean copyTo(long position, long count, FileChannel target, Allocation allocation) throws IOException {
        if (blockDeviceSize >= 0 || !allocation.allocated(path, position, position + count)) {
            return false; // the kernel's file copy takes regular files only, and would fill holes
        }
        long pos = position;
        long end = position + count;
        while (pos < end) {
            long n = channel.transferTo(pos, end - pos, target);
            if (n <= 0) {
                throw new ImageException(name, String.format(
                        "truncated: needs %d more bytes at offset %d, but the file is %d bytes", end - pos, pos, size()));
            }
            pos += n;
        }
        return true;
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public void writeAt(ByteBuffer src, long position) throws IOException {
        if (!writable) {
            Storage.super.writeAt(src, position);
        }
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        if (writable) {
            channel.force(true);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            lock.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
