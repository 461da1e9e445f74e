package org.vdmount.formats.vdi;

import java.io.IOException;
import java.nio.ByteOrder;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.PagedTable;

/**
 * One VDI layer: a block map of 32-bit entries, each the number of a block in the data area, or
 * "free" (not here: the parent decides, or zeros) or "zero". Blocks are read whole where they lie;
 * a static image's map simply has every block.
 */
final class VdiDisk extends AbstractVirtualDisk {
    static final long FREE = 0xffffffffL;
    static final long ZERO = 0xfffffffeL;

    private final Storage storage;
    private final DiskInfo info;
    private final VirtualDisk parent;
    private final VdiHeader header;
    private final long fileSize;
    private final PagedTable map;

    VdiDisk(Storage storage, long size, VdiHeader header, VirtualDisk parent, DiskInfo info) throws IOException {
        super(size, parent);
        this.storage = storage;
        this.info = info;
        this.parent = parent;
        this.header = header;
        this.fileSize = storage.size();
        this.map = new PagedTable(storage, header.blockMapAt(), header.blocks(), 4, ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        RunMerger out = new RunMerger(sink);
        long blockSize = header.blockSize();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long stop = Math.min(end, blockStart + blockSize);
            long entry = entry(block);
            if (entry == FREE) {
                out.add(RunKind.BACKING, pos, stop - pos);
            } else if (entry == ZERO) {
                out.add(RunKind.ZERO, pos, stop - pos);
            } else {
                out.add(RunKind.DATA, pos, stop - pos, storage, blockAt(block, entry) + (pos - blockStart));
            }
            pos = stop;
        }
        out.flush();
    }

    private long blockAt(long block, long entry) throws ImageException {
        if (entry >= header.blocks()) {
            throw new ImageException(storage.name(), "block " + block + " is mapped to data block " + entry
                    + ", past the image's " + header.blocks() + " blocks");
        }
        long at = header.dataAt() + entry * (header.blockSize() + header.blockExtra()) + header.blockExtra();
        if (at > fileSize - header.blockSize()) {
            throw new ImageException(storage.name(), "block " + block + " (data block " + entry + " at offset " + at
                    + ") lies past the end of the " + fileSize + "-byte file: the image is truncated");
        }
        return at;
    }

    private long entry(long block) throws IOException {
        return block < map.entries() ? map.get(block) : FREE;
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        map.clear();
        try {
            if (parent != null) {
                parent.close();
            }
        } finally {
            storage.close();
        }
    }
}
