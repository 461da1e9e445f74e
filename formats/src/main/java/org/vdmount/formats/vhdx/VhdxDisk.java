package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.SectorBitmap;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.PagedTable;
import org.vdmount.formats.cache.TableCache;

/**
 * One VHDX layer. The BAT gives each payload block a state: present (at a 1 MiB-aligned place in
 * the file), zero, not present (the parent decides, or zeros), or, in a differencing disk,
 * partly present: then the chunk's sector bitmap block says sector by sector (bit 0 of byte 0
 * first) whether this file or the parent holds it. Sector bitmap entries follow every
 * chunk-ratio payload entries in the BAT.
 */
final class VhdxDisk extends AbstractVirtualDisk {
    static final int NOT_PRESENT = 0;
    static final int UNDEFINED = 1;
    static final int ZERO = 2;
    static final int UNMAPPED = 3;
    /** UNMAPPED as version 0.95 of the specification numbered it; qemu reads it so. */
    static final int UNMAPPED_V095 = 5;
    static final int FULLY_PRESENT = 6;
    static final int PARTIALLY_PRESENT = 7;
    static final long MB = 1 << 20;

    private final Storage storage;
    private final DiskInfo info;
    private final VirtualDisk parent;
    private final long blockSize;
    private final long sectorSize;
    private final long chunkRatio;
    private final PagedTable bat;
    private final long fileSize;
    private final long[][] reserved;
    private final TableCache tables = TableCache.shared();
    private final Object bitmaps = new Object();

    /**
     * @param reserved the file's own structures, {start, end} pairs: no block may lie in them
     */
    VhdxDisk(Storage storage, long size, Metadata metadata, long chunkRatio, RegionTable.Region bat, long batEntries,
            long[][] reserved, VirtualDisk parent, DiskInfo info) throws IOException {
        super(size, parent);
        this.storage = storage;
        this.info = info;
        this.parent = parent;
        this.blockSize = metadata.blockSize;
        this.sectorSize = metadata.logicalSectorSize;
        this.chunkRatio = chunkRatio;
        this.bat = new PagedTable(storage, bat.offset(), batEntries, 8, ByteOrder.LITTLE_ENDIAN);
        this.fileSize = storage.size();
        this.reserved = reserved;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        RunMerger out = new RunMerger(sink);
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long stop = Math.min(end, blockStart + blockSize);
            long entry = entry(block + block / chunkRatio);
            int state = (int) (entry & 7);
            switch (state) {
                case NOT_PRESENT -> out.add(RunKind.BACKING, pos, stop - pos);
                case ZERO, UNMAPPED, UNMAPPED_V095, UNDEFINED -> out.add(RunKind.ZERO, pos, stop - pos);
                case FULLY_PRESENT -> out.add(RunKind.DATA, pos, stop - pos, storage,
                        blockAt(block, entry) + (pos - blockStart));
                case PARTIALLY_PRESENT -> mapSectors(block, blockAt(block, entry), blockStart, pos, stop, out);
                default -> throw new ImageException(storage.name(), "BAT entry of block " + block
                        + " has the unknown state " + state);
            }
            pos = stop;
        }
        out.flush();
    }

    private void mapSectors(long block, long data, long blockStart, long from, long to, RunMerger out)
            throws IOException {
        if (parent == null) {
            throw new ImageException(storage.name(), "block " + block + " is partly present, which only a "
                    + "differencing disk may say");
        }
        long[] words = tables.get(bitmaps, block, () -> readBitmap(block));
        new SectorBitmap(words, false, sectorSize).map(blockStart, from, to, storage, data, out);
    }

    /** The part of the chunk's sector bitmap block that covers payload block {@code block}. */
    private long[] readBitmap(long block) throws IOException {
        long chunk = block / chunkRatio;
        long entry = entry(chunk * (chunkRatio + 1) + chunkRatio);
        if ((entry & 7) != FULLY_PRESENT) {
            throw new ImageException(storage.name(), "block " + block + " is partly present, but the sector bitmap "
                    + "of its chunk is not (state " + (entry & 7) + ")");
        }
        long at = (entry >>> 20) * MB;
        if (at < MB || at > fileSize - MB) {
            throw new ImageException(storage.name(), "sector bitmap of chunk " + chunk + " at offset " + at
                    + " lies outside the " + fileSize + "-byte file");
        }
        long bytes = blockSize / sectorSize / 8;
        ByteBuffer b = ByteBuffer.allocate((int) Math.max(8, bytes)).order(ByteOrder.LITTLE_ENDIAN);
        b.limit((int) bytes);
        storage.readFully(b, at + (block % chunkRatio) * bytes);
        b.clear();
        long[] words = new long[b.capacity() / 8];
        b.asLongBuffer().get(words);
        return words;
    }

    /** Where payload block {@code block} (its BAT entry {@code entry}) lies, checked against the file. */
    private long blockAt(long block, long entry) throws ImageException {
        long at = (entry >>> 20) * MB;
        for (long[] r : reserved) {
            if (at < r[1] && at + blockSize > r[0]) {
                throw new ImageException(storage.name(), "BAT entry of block " + block + " points to offset " + at
                        + ", into the file's own headers, log, BAT or metadata");
            }
        }
        if (at > fileSize - blockSize) {
            throw new ImageException(storage.name(), "block " + block + " at offset " + at + " (" + blockSize
                    + " bytes) lies past the end of the " + fileSize + "-byte file: the image is truncated");
        }
        return at;
    }

    private long entry(long index) throws IOException {
        if (index >= bat.entries()) {
            throw new ImageException(storage.name(), "BAT entry " + index + " is past the table's " + bat.entries()
                    + " entries");
        }
        return bat.get(index);
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        bat.clear();
        tables.clear(bitmaps);
        try {
            if (parent != null) {
                parent.close();
            }
        } finally {
            storage.close();
        }
    }
}
