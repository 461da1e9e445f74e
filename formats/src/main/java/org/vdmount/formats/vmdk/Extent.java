package org.vdmount.formats.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunSink;

/** One extent of a VMDK disk: a stretch of the virtual disk and how its bytes are stored. */
interface Extent extends Closeable {

    /** Length of the extent in bytes. */
    long length();

    /**
     * Describes {@code [offset, offset + length)} of this extent (offsets local to it) as runs whose
     * virtual offsets are shifted by {@code base}, the extent's start in the disk.
     */
    void map(long offset, long length, long base, RunSink sink) throws IOException;

    /**
     * Fills {@code dst} with bytes from {@code offset} (local) of a compressed grain this extent
     * described with {@code locator}.
     */
    default void readCompressed(long offset, long locator, ByteBuffer dst) throws IOException {
        throw new ImageException(toString(), "no compressed grains in this extent");
    }

    /** Whether allocated grains are stored compressed. */
    default boolean compressedGrains() {
        return false;
    }

    /** Grain size in bytes, 0 for extents without grains. */
    default int grainBytes() {
        return 0;
    }

    /** Why UNREADABLE runs of this extent cannot be read, completing "range at offset X ...". */
    default String unreadableReason() {
        return "is in a NOACCESS extent";
    }

    /** What {@code vdmount info} shows about this extent's own format (header version, flags...). */
    default String describe() {
        return "";
    }

    @Override
    default void close() throws IOException {
    }
}
