package org.vdmount.formats;

/** What a stretch of a virtual disk is made of. */
public enum RunKind {
    /** Stored uncompressed at {@link Run#hostOffset()} of {@link Run#storage()}. */
    DATA,
    /** Stored compressed; {@link Run#hostOffset()} is a locator only the owning format understands. */
    COMPRESSED,
    /** Known to read as zeros (a zero cluster, a zeroed grain, a ZERO extent). */
    ZERO,
    /** Not allocated anywhere in the chain: reads as zeros, a hole for block status. */
    UNALLOCATED,
    /**
     * Not allocated in this layer: the backing disk decides. Only seen by formats' own
     * {@code mapLocal}; {@link VirtualDisk#map} resolves it before anyone else sees it.
     */
    BACKING,
    /** Cannot be read (a NOACCESS extent): reading it is an I/O error. */
    UNREADABLE;

    /** Whether bytes of this kind are zeros without reading anything. */
    public boolean readsAsZero() {
        return this == ZERO || this == UNALLOCATED;
    }
}
