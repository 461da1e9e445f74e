package org.vdmount.formats.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.ImageException;

/** One extent of a VMDK disk: a stretch of the virtual disk and how its bytes are stored. */
interface Extent extends Concatenation.Part, Closeable {

    /**
     * Fills {@code dst} with bytes from {@code offset} (local) of a compressed grain this extent
     * described with {@code locator}; {@code base} is the extent's start in the disk.
     */
    default void readCompressed(long offset, long locator, long base, ByteBuffer dst) throws IOException {
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

    /**
     * Why this extent cannot be written in place (completing "cannot be written in place: ..."), or
     * null when it can.
     */
    default String unwritable() {
        return "its kind of extent is not written by vdmount";
    }

    /**
     * Writes all of {@code src} at {@code offset} (local); {@code base} is the extent's start in the
     * disk and {@code beneath} what the extent's unallocated parts read as.
     */
    default void write(ByteBuffer src, long offset, long base, Beneath beneath) throws IOException {
        throw new ImageException(toString(), "cannot be written in place: " + unwritable());
    }

    /** Makes {@code [offset, offset + length)} (local) read as zeros; see {@link #write}. */
    default void discard(long offset, long length, long base, Beneath beneath) throws IOException {
        throw new ImageException(toString(), "cannot be written in place: " + unwritable());
    }

    /** Makes every completed write durable, with the tables that find it. */
    default void flush() throws IOException {
    }

    @Override
    default void close() throws IOException {
    }
}
