package org.vdmount.formats;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A virtual disk: the bytes a VM sees, whatever the image format stores. Every method is thread
 * safe; many readers may read at once.
 */
public interface VirtualDisk extends Closeable {

    /** Virtual size in bytes. */
    long size();

    /**
     * Fills {@code dst} (all of its remaining bytes) with the disk's bytes starting at {@code offset}.
     * The range must lie within the disk.
     */
    void read(ByteBuffer dst, long offset) throws IOException;

    /**
     * Describes {@code [offset, offset + length)} as runs, fully resolved through the backing chain:
     * the sink sees only DATA, COMPRESSED, ZERO, UNALLOCATED and UNREADABLE runs, in order,
     * contiguous, covering the range exactly. Cheap: reads tables, never data.
     */
    void map(long offset, long length, RunSink sink) throws IOException;

    /** What {@code vdmount info} shows of this layer; the backing layer has its own. */
    DiskInfo info();

    /** The disk that unallocated parts of this one read through to, if any. */
    Optional<VirtualDisk> backing();

    /** Whether {@link #write} and friends are allowed. */
    default boolean writable() {
        return false;
    }

    /** Writes all of {@code src} at {@code offset}. */
    default void write(ByteBuffer src, long offset) throws IOException {
        throw new ImageException(info().name(), "this disk is read-only");
    }

    /** Makes written data durable. */
    default void flush() throws IOException {
    }

    /**
     * Declares {@code [offset, offset + length)} unused; reads of it return zeros afterwards. A
     * format that cannot free space writes the zeros (in bounded pieces).
     */
    default void discard(long offset, long length) throws IOException {
        if (!writable()) {
            throw new ImageException(info().name(), "this disk is read-only");
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            write(zeros.clear().limit(n), offset + done);
            done += n;
        }
    }
}
