package org.vdmount.formats;

import java.io.IOException;

/**
 * A block's sector bitmap, as differencing disks keep one (VHD, VHDX): a bit per sector, set
 * where this layer holds the sector, clear where the parent does. The bits are packed in longs
 * whose bytes are in file order, read big endian (VHD: bit 7 of byte 0 is sector 0) or little
 * endian (VHDX: bit 0 of byte 0 is sector 0); each is then bit {@code 63 - n} or bit {@code n}.
 */
public final class SectorBitmap {
    private final long[] words;
    private final boolean mostSignificantFirst;
    private final long sectorSize;

    public SectorBitmap(long[] words, boolean mostSignificantFirst, long sectorSize) {
        this.words = words;
        this.mostSignificantFirst = mostSignificantFirst;
        this.sectorSize = sectorSize;
    }

    /** Whether sector {@code sector} of the block is held here. */
    public boolean isSet(long sector) {
        long word = words[(int) (sector >>> 6)];
        int bit = (int) (sector & 63);
        return (word >>> (mostSignificantFirst ? 63 - bit : bit) & 1) != 0;
    }

    /**
     * Maps {@code [from, to)} of the block that starts at virtual {@code blockStart} and whose data
     * starts at {@code data} in {@code storage}: DATA runs for the sectors held here, BACKING runs
     * for the others, in as few runs as the bits allow.
     */
    public void map(long blockStart, long from, long to, Storage storage, long data, RunMerger out)
            throws IOException {
        long last = (to - blockStart + sectorSize - 1) / sectorSize;
        long pos = from;
        while (pos < to) {
            long sector = (pos - blockStart) / sectorSize;
            boolean here = isSet(sector);
            long next = sector + 1;
            while (next < last && isSet(next) == here) {
                next++;
            }
            long stop = Math.min(to, blockStart + next * sectorSize);
            if (here) {
                out.add(RunKind.DATA, pos, stop - pos, storage, data + (pos - blockStart));
            } else {
                out.add(RunKind.BACKING, pos, stop - pos);
            }
            pos = stop;
        }
    }
}
