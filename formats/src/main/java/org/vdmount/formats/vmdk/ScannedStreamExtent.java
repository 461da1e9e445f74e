package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * A streamOptimized extent whose footer (and so grain directory) is missing, typically a download
 * cut short. Its grains are found by walking the markers from the start: each compressed grain
 * names its own LBA. A stream holds its grains in LBA order and leaves out grains of zeros, so a
 * grain missing below the last one found is a hole, and everything after it is unknown: reading
 * there is an error, never silent zeros.
 */
final class ScannedStreamExtent extends GrainExtent {
    /** 4 Mi grains (256 GiB of data at 64 KiB grains), 48 MiB of index: past it the rest is unknown. */
    private static final int MAX_GRAINS = 4 << 20;
    private static final int TYPE_END_OF_STREAM = 0;
    private static final int TYPE_FOOTER = 3;

    private final int[] grains;
    private final long[] offsets;
    private final long readableGrains;
    private final boolean complete;

    private ScannedStreamExtent(Storage storage, long length, SparseHeader header, int[] grains, long[] offsets,
            long readableGrains, boolean complete, TableCache tables) throws IOException {
        super(storage, length, (int) (header.grainSize() * 512), header.numGTEsPerGT(),
                tableCount(header), tables);
        this.grains = grains;
        this.offsets = offsets;
        this.readableGrains = readableGrains;
        this.complete = complete;
    }

    private static long tableCount(SparseHeader header) {
        long coverage = header.grainSize() * header.numGTEsPerGT();
        return (header.capacity() + coverage - 1) / coverage;
    }

    static ScannedStreamExtent open(Storage storage, SparseHeader header, long length, TableCache tables)
            throws IOException {
        long size = storage.size();
        long grainSectors = header.grainSize();
        int grainBytes = (int) (grainSectors * 512);
        long limit = 2L * grainBytes + 4096;
        long pos = header.overhead() * 512;
        if (pos < 512 || pos > size) {
            throw new ImageException(storage.name(), "streamOptimized file has no footer, and its overhead of "
                    + header.overhead() + " sectors does not say where the grains start");
        }
        int[] grains = new int[1024];
        long[] offsets = new long[1024];
        int found = 0;
        long last = -1;
        boolean ordered = true;
        boolean complete = false;
        ByteBuffer marker = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        while (pos + 16 <= size && found < MAX_GRAINS) {
            marker.clear();
            storage.readFully(marker, pos);
            long value = marker.getLong(0);
            long dataSize = marker.getInt(8) & 0xffffffffL;
            int type = marker.getInt(12);
            if (dataSize != 0) {
                if (dataSize > limit || pos + 12 + dataSize > size || value < 0 || value >= header.capacity()
                        || value % grainSectors != 0) {
                    break; // a damaged or cut grain: the stream is known up to here
                }
                long grain = value / grainSectors;
                if (found == grains.length) {
                    grains = Arrays.copyOf(grains, found * 2);
                    offsets = Arrays.copyOf(offsets, found * 2);
                }
                grains[found] = (int) grain;
                offsets[found] = pos;
                found++;
                ordered &= grain > last;
                last = Math.max(last, grain);
                pos = (pos + 12 + dataSize + 511) / 512 * 512;
            } else if (type == TYPE_END_OF_STREAM) {
                complete = true;
                break;
            } else if (type > 0 && type <= TYPE_FOOTER && value >= 0 && value <= size / 512) {
                pos += 512 + value * 512;
            } else {
                break;
            }
        }
        grains = Arrays.copyOf(grains, found);
        offsets = Arrays.copyOf(offsets, found);
        if (!ordered) {
            sortByGrain(grains, offsets);
        }
        long total = (header.capacity() + grainSectors - 1) / grainSectors;
        return new ScannedStreamExtent(storage, length, header, grains, offsets, complete ? total : last + 1,
                complete, tables);
    }

    private static void sortByGrain(int[] grains, long[] offsets) {
        Integer[] order = new Integer[grains.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(grains[a], grains[b]));
        int[] g = grains.clone();
        long[] o = offsets.clone();
        for (int i = 0; i < order.length; i++) {
            grains[i] = g[order[i]];
            offsets[i] = o[order[i]];
        }
    }

    int grainsFound() {
        return grains.length;
    }

    boolean complete() {
        return complete;
    }

    /** Bytes of the extent known from the stream: past them, reading is an error. */
    long readableBytes() {
        return Math.min(length(), readableGrains * grainBytes);
    }

    @Override
    protected long[] loadTable(long index) {
        long first = index * tableEntries;
        long[] table = new long[tableEntries];
        for (int i = 0; i < tableEntries; i++) {
            table[i] = first + i < readableGrains ? UNALLOCATED : UNKNOWN;
        }
        int at = Arrays.binarySearch(grains, (int) Math.min(Integer.MAX_VALUE, first));
        for (int i = at >= 0 ? at : -at - 1; i < grains.length && grains[i] < first + tableEntries; i++) {
            table[(int) (grains[i] - first)] = offsets[i];
        }
        return table;
    }

    @Override
    protected boolean compressed() {
        return true;
    }

    @Override
    protected boolean markers() {
        return true;
    }

    @Override
    public String unreadableReason() {
        return "lies past the end of the cut-short stream " + storage.name();
    }

    @Override
    public String unwritable() {
        return "it is a streamOptimized extent, whose grains are compressed and written once, as a stream";
    }

    @Override
    public String describe() {
        return "KDMV stream without footer, " + grains.length + " grains found by walking the markers"
                + (complete ? "" : ", cut short");
    }
}
