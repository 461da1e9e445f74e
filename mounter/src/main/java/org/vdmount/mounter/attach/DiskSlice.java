package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * A stretch of a disk seen as a disk of its own (a partition). Stop-gap until the partition
 * layer's {@code Partition.slice(disk)} is merged.
 */
final class DiskSlice implements VirtualDisk {
    private final VirtualDisk parent;
    private final long start;
    private final long size;
    private final DiskInfo info;

    DiskSlice(VirtualDisk parent, long start, long size, String name) {
        this.parent = parent;
        this.start = start;
        this.size = size;
        this.info = new DiskInfo(name, parent.info().format()).virtualSize(size);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        check(offset, dst.remaining());
        parent.read(dst, start + offset);
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        check(offset, length);
        parent.map(start + offset, length, run -> sink.accept(
                new Run(run.kind(), run.offset() - start, run.length(), run.storage(), run.hostOffset())));
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return Optional.empty();
    }

    @Override
    public void close() {
        // the parent owns the storage
    }

    private void check(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new ImageException(info.name(), "access of " + length + " bytes at offset " + offset
                    + " is outside the partition (" + size + " bytes)");
        }
    }
}
