package org.vdmount.formats.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.SectorBitmap;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.PagedTable;
import org.vdmount.formats.cache.TableCache;

/**
 * One VHD layer. A fixed disk is its file's bytes. A dynamic or differencing disk is cut in blocks
 * that the block allocation table (BAT) places in the file, each behind a sector bitmap. Like
 * qemu, a dynamic disk's bitmaps are not consulted (an allocated block is read whole); a
 * differencing disk's say, sector by sector, whether the block or the parent holds the data.
 */
final class VhdDisk extends AbstractVirtualDisk {
    private static final long UNUSED = 0xffffffffL;

    private final Storage storage;
    private final DiskInfo info;
    private final VirtualDisk parent;
    private final boolean fixed;
    private final boolean differencing;
    private final long fileSize;
    private final long blockSize;
    private final long bitmapBytes;
    private final PagedTable bat;
    /** Where the headers and the BAT end: no block may start before. */
    private final long metadataEnd;
    private final TableCache tables = TableCache.shared();
    /** The owner of this disk's cached sector bitmaps. */
    private final Object bitmaps = new Object();

    /** A fixed disk. */
    VhdDisk(Storage storage, long size, DiskInfo info) throws IOException {
        super(size, null);
        this.storage = storage;
        this.info = info;
        this.parent = null;
        this.fixed = true;
        this.differencing = false;
        this.fileSize = storage.size();
        this.blockSize = 0;
        this.bitmapBytes = 0;
        this.bat = null;
        this.metadataEnd = 0;
    }

    /** A dynamic disk, or a differencing one over {@code parent}. */
    VhdDisk(Storage storage, long size, DynamicHeader header, long metadataEnd, VirtualDisk parent, DiskInfo info)
            throws IOException {
        super(size, parent);
        this.storage = storage;
        this.info = info;
        this.parent = parent;
        this.fixed = false;
        this.differencing = parent != null;
        this.fileSize = storage.size();
        this.blockSize = header.blockSize();
        this.bitmapBytes = header.bitmapBytes();
        this.bat = new PagedTable(storage, header.tableOffset(), header.maxTableEntries(), 4, ByteOrder.BIG_ENDIAN);
        this.metadataEnd = metadataEnd;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        if (fixed) {
            sink.accept(Run.data(offset, length, storage, offset));
            return;
        }
        RunMerger out = new RunMerger(sink);
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long stop = Math.min(end, blockStart + blockSize);
            long sector = block < bat.entries() ? bat.get(block) : UNUSED;
            if (sector == UNUSED) {
                out.add(RunKind.BACKING, pos, stop - pos);
            } else {
                long data = blockData(block, sector);
                if (differencing) {
                    mapSectors(block, sector * 512, blockStart, pos, stop, data, out);
                } else {
                    out.add(RunKind.DATA, pos, stop - pos, storage, data + (pos - blockStart));
                }
            }
            pos = stop;
        }
        out.flush();
    }

    /** Sector by sector, as the block's bitmap says (most significant bit first): here or in the parent. */
    private void mapSectors(long block, long bitmapAt, long blockStart, long from, long to, long data, RunMerger out)
            throws IOException {
        long[] words = tables.get(bitmaps, block, () -> readBitmap(bitmapAt));
        new SectorBitmap(words, true, 512).map(blockStart, from, to, storage, data, out);
    }

    private long[] readBitmap(long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) ((bitmapBytes + 7) & ~7L));
        b.limit((int) bitmapBytes);
        storage.readFully(b, at);
        b.clear();
        long[] words = new long[b.capacity() / 8];
        b.asLongBuffer().get(words);
        return words;
    }

    /** Where block {@code block} (its bitmap at {@code sector}) keeps its data, checked against the file. */
    private long blockData(long block, long sector) throws ImageException {
        long at = sector * 512;
        if (at < metadataEnd) {
            throw new ImageException(storage.name(), "block " + block + " of the block allocation table points to "
                    + "sector " + sector + ", inside the image's headers and table (which end at byte "
                    + metadataEnd + ")");
        }
        if (at + bitmapBytes + blockSize > fileSize) {
            throw new ImageException(storage.name(), "block " + block + " at sector " + sector + " ("
                    + (bitmapBytes + blockSize) + " bytes) lies past the end of the " + fileSize
                    + "-byte file: the image is truncated");
        }
        return at + bitmapBytes;
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        if (bat != null) {
            bat.clear();
        }
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
