package org.vdmount.formats.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * A window onto the parent disk: offset 0 here is the partition's first byte there. The window is
 * bounded to the parent's size even if the partition entry claims more.
 */
final class PartitionDisk extends AbstractVirtualDisk {
    private final VirtualDisk parent;
    private final long start;
    private final DiskInfo info;

    PartitionDisk(VirtualDisk parent, Partition partition) {
        super(boundedSize(parent, partition), null);
        this.parent = parent;
        this.start = Math.min(Math.max(0, partition.start()), parent.size());
        this.info = new DiskInfo(parent.info().name() + " partition " + partition.number(), "partition")
                .virtualSize(size());
        info.detail("start", start);
        info.detail("type", partition.typeCode());
    }

    private static long boundedSize(VirtualDisk parent, Partition partition) {
        long from = Math.min(Math.max(0, partition.start()), parent.size());
        return Math.max(0, Math.min(partition.size(), parent.size() - from));
    }

    /** Reads go straight to the parent, so its decoders see their own virtual offsets. */
    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkRange(offset, dst.remaining());
        parent.read(dst, start + offset);
    }

    /**
     * A partition is writable when its disk is: over FUSE each partition is a file of its own, and
     * a file system on it must be able to write into an overlay or a raw image.
     */
    @Override
    public boolean writable() {
        return parent.writable();
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkRange(offset, src.remaining());
        parent.write(src, start + offset);
    }

    @Override
    public void flush() throws IOException {
        parent.flush();
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkRange(offset, length);
        parent.discard(start + offset, length);
    }

    @Override
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        parent.read(dst.duplicate(), start + run.offset());
    }

    /**
     * The parent's runs, moved to this disk's offsets; host offsets and locators stay as they are,
     * since they address the parent's storage.
     */
    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        parent.map(start + offset, length, run -> sink.accept(
                new Run(run.kind(), run.offset() - start, run.length(), run.storage(), run.hostOffset())));
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    /** The parent belongs to whoever read the table; closing a partition leaves it open. */
    @Override
    public void close() {
    }
}
