package org.vdmount.formats;

/**
 * One stretch of a virtual disk with a single way of being read: the unit of the "map this range"
 * model from which reading, hole skipping, NBD block status and SEEK_DATA all follow.
 *
 * @param kind       what the stretch is made of
 * @param offset     virtual offset of the first byte, in bytes
 * @param length     length in bytes, never zero
 * @param storage    where DATA and COMPRESSED bytes live; null for the other kinds
 * @param hostOffset for DATA, the byte offset in {@code storage} of the byte at {@code offset};
 *                   for COMPRESSED, a locator the owning format gave; otherwise 0
 */
public record Run(RunKind kind, long offset, long length, Storage storage, long hostOffset) {

    public Run {
        if (length <= 0) {
            throw new IllegalArgumentException("empty run at " + offset);
        }
    }

    public static Run data(long offset, long length, Storage storage, long hostOffset) {
        return new Run(RunKind.DATA, offset, length, storage, hostOffset);
    }

    public static Run compressed(long offset, long length, Storage storage, long locator) {
        return new Run(RunKind.COMPRESSED, offset, length, storage, locator);
    }

    public static Run of(RunKind kind, long offset, long length) {
        return new Run(kind, offset, length, null, 0);
    }

    public long end() {
        return offset + length;
    }

    /** The part of this run from {@code from} (inclusive) to {@code to} (exclusive), virtual offsets. */
    public Run slice(long from, long to) {
        long start = Math.max(from, offset);
        long stop = Math.min(to, end());
        long host = kind == RunKind.DATA ? hostOffset + (start - offset) : hostOffset;
        return new Run(kind, start, stop - start, storage, host);
    }
}
