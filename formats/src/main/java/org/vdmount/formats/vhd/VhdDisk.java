package org.vdmount.formats.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.TableCache;

/**
 * One VHD layer. A fixed disk is its file's bytes. A dynamic or differencing disk is cut in blocks
 * that the block allocation table (BAT) places in the file, each behind a sector bitmap. Like
 * qemu, a dynamic disk's bitmaps are not consulted (an allocated block is read whole); a
 * differencing disk's say, sector by sector, whether the block or the parent holds the data.
 */
final class VhdDisk extends AbstractVirtualDisk {
    /** BAT entries per page of the table cache (16 KiB of the file). */
    private static final int PAGE = 4096;
    private static final long UNUSED = 0xffffffffL;

    private final Storage storage;
    private final DiskInfo info;
    private final VirtualDisk parent;
    private final boolean fixed;
    private final boolean differencing;
    private final long fileSize;
    private final long blockSize;
    private final long bitmapBytes;
    private final long batOffset;
    private final long entries;
    /** Where the headers and the BAT end: no block may start before. */
    private final long metadataEnd;
    private final TableCache tables = TableCache.shared();
    /** The owner of cached sector bitmaps, apart from the BAT pages. */
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
        this.batOffset = 0;
        this.entries = 0;
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
        this.batOffset = header.tableOffset();
        this.entries = header.maxTableEntries();
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
            long sector = block < entries ? entry(block) : UNUSED;
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

    /** Sector by sector, as the block's bitmap says: here (bit set) or in the parent. */
    private void mapSectors(long block, long bitmapAt, long blockStart, long from, long to, long data, RunMerger out)
            throws IOException {
        long[] bitmap = tables.get(bitmaps, block, () -> readBitmap(bitmapAt));
        long pos = from;
        while (pos < to) {
            long sector = (pos - blockStart) / 512;
            boolean here = isSet(bitmap, sector);
            long next = sector + 1;
            long last = (to - blockStart + 511) / 512;
            while (next < last && isSet(bitmap, next) == here) {
                next++;
            }
            long stop = Math.min(to, blockStart + next * 512);
            if (here) {
                out.add(RunKind.DATA, pos, stop - pos, storage, data + (pos - blockStart));
            } else {
                out.add(RunKind.BACKING, pos, stop - pos);
            }
            pos = stop;
        }
    }

    /** VHD bitmaps count from the most significant bit: bit 7 of byte 0 is sector 0. */
    private static boolean isSet(long[] bitmap, long sector) {
        long word = bitmap[(int) (sector >>> 6)];
        return (word >>> (63 - (sector & 63)) & 1) != 0;
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

    /** The BAT entry of {@code block}: the sector of its bitmap, or {@link #UNUSED}. */
    private long entry(long block) throws IOException {
        long page = block / PAGE;
        long[] entries = tables.get(this, page, () -> readPage(page));
        return entries[(int) (block % PAGE)];
    }

    private long[] readPage(long page) throws IOException {
        int count = (int) Math.min(PAGE, entries - page * PAGE);
        ByteBuffer b = ByteBuffer.allocate(4 * count);
        storage.readFully(b, batOffset + 4 * page * PAGE);
        b.flip();
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = Integer.toUnsignedLong(b.getInt());
        }
        return out;
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
        tables.clear(this);
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
