package org.vdmount.formats;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;
import org.vdmount.formats.io.Allocation;

/**
 * Bytes addressed by offset: a file, a block device, or a slice of another storage (a disk inside
 * an OVA). Positional reads are thread safe, so many readers may share one storage.
 */
public interface Storage extends Closeable {

    /** The name errors use: the path as the user or a descriptor gave it. */
    String name();

    /** The file behind this storage, when there is one; relative names are resolved against it. */
    Optional<Path> path();

    /** Size in bytes. */
    long size() throws IOException;

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code position}; returns the number read, which is
     * less than asked only at the end of the storage (-1 at or past the end).
     */
    int readAt(ByteBuffer dst, long position) throws IOException;

    /**
     * Reads exactly {@code dst.remaining()} bytes at {@code position}, or fails with an
     * {@link ImageException} saying the file is truncated.
     */
    default void readFully(ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = readAt(dst, pos);
            if (n < 0) {
                throw new ImageException(name(), String.format(
                        "truncated: needs %d more bytes at offset %d, but the file is %d bytes",
                        dst.remaining(), pos, size()));
            }
            pos += n;
        }
    }

    /**
     * Copies {@code count} bytes at {@code position} to {@code target} at the target's own position
     * (which it advances), inside the kernel (copy_file_range, or sendfile across file systems) when
     * this storage is a plain file and {@code allocation} says the stretch has no hole, so the bytes
     * never pass through a buffer of ours. Returns false, having copied nothing, when it cannot;
     * fails like {@link #readFully} when the storage ends before the range does.
     */
    default boolean copyTo(long position, long count, FileChannel target, Allocation allocation) throws IOException {
        return false;
    }

    /** Whether {@link #writeAt} may be called. */
    default boolean writable() {
        return false;
    }

    /** Writes all of {@code src} at {@code position}, growing the storage if needed. */
    default void writeAt(ByteBuffer src, long position) throws IOException {
        throw new ImageException(name(), "opened read-only");
    }

    /** Makes written data durable. */
    default void flush() throws IOException {
    }
}
