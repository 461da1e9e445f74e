package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What a writable layer's unallocated parts read as: the parent disk of a snapshot delta, zeros past
 * the parent's end, or zeros when there is no parent. A grain allocated by a write that covers only
 * part of it gets the rest from here.
 */
interface Beneath {

    /** Fills {@code dst} (all its remaining bytes) with what lies beneath, from virtual {@code offset}. */
    void read(ByteBuffer dst, long offset) throws IOException;

    /** Whether {@code [offset, offset + length)} (virtual) reads as zeros beneath this layer. */
    boolean zeros(long offset, long length) throws IOException;
}
