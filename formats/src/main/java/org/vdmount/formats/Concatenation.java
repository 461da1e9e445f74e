package org.vdmount.formats;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Parts laid end to end to make one disk: the extents of a VMDK, the files of a split Parallels
 * image, the segments of an evidence file. A range of the whole is mapped by handing each part the
 * stretch of it that falls there.
 *
 * @param <P> the format's own part type
 */
public final class Concatenation<P extends Concatenation.Part> {

    /** One part: a stretch of the disk and how its bytes are stored. */
    public interface Part {
        /** Length in bytes; empty parts are allowed and never mapped. */
        long length();

        /**
         * Describes {@code [offset, offset + length)} of this part (offsets local to it) as runs whose
         * virtual offsets are shifted by {@code base}, the part's start in the whole.
         */
        void map(long offset, long length, long base, RunSink sink) throws IOException;
    }

    private final List<P> parts;
    private final long[] starts;
    private final long size;

    public Concatenation(List<P> parts) {
        this.parts = List.copyOf(parts);
        this.starts = new long[this.parts.size()];
        long at = 0;
        for (int i = 0; i < starts.length; i++) {
            long length = this.parts.get(i).length();
            if (length < 0) {
                throw new IllegalArgumentException("part " + i + " has a negative length");
            }
            starts[i] = at;
            at = Math.addExact(at, length);
        }
        this.size = at;
    }

    /** Total length in bytes. */
    public long size() {
        return size;
    }

    public int count() {
        return starts.length;
    }

    public P part(int index) {
        return parts.get(index);
    }

    public List<P> parts() {
        return parts;
    }

    /** Where part {@code index} starts in the whole. */
    public long start(int index) {
        return starts[index];
    }

    /** The part holding the byte at {@code offset} (which lies within the whole). */
    public int indexAt(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        i = i >= 0 ? i : -i - 2;
        // Empty parts share their start with the next part: the byte is in the first non-empty one.
        while (parts.get(i).length() == 0 && i + 1 < starts.length) {
            i++;
        }
        return i;
    }

    /** Maps {@code [offset, offset + length)} of the whole (within it) through the parts it covers. */
    public void map(long offset, long length, RunSink sink) throws IOException {
        long pos = offset;
        long end = offset + length;
        int i = indexAt(pos);
        while (pos < end) {
            if (parts.get(i).length() == 0) {
                i++;
                continue;
            }
            long start = starts[i];
            long stop = Math.min(end, start + parts.get(i).length());
            parts.get(i).map(pos - start, stop - pos, start, sink);
            pos = stop;
            i++;
        }
    }
}
