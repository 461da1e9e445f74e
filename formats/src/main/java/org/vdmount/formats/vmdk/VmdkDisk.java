package org.vdmount.formats.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/** A VMDK disk: its extents laid end to end, over an optional parent (snapshot delta). */
final class VmdkDisk extends AbstractVirtualDisk {
    private final Concatenation<Extent> extents;
    private final ExtentLine[] lines;
    private final DiskInfo info;
    private final List<Closeable> others;
    private final VirtualDisk parent;
    /** The largest grain of the extents that compress theirs; 0 when none does. */
    private final int compressedGrain;

    /**
     * @param lines  the descriptor line of each extent (entries may be null for a bare extent)
     * @param others what else to close with the disk (a descriptor file no extent uses)
     */
    VmdkDisk(Concatenation<Extent> extents, List<ExtentLine> lines, VirtualDisk parent, DiskInfo info,
            List<Closeable> others) {
        super(extents.size(), parent);
        this.extents = extents;
        this.lines = lines.toArray(ExtentLine[]::new);
        this.info = info;
        this.others = others;
        this.parent = parent;
        int largest = 0;
        for (Extent e : extents.parts()) {
            if (e.compressedGrains()) {
                largest = Math.max(largest, e.grainBytes());
            }
        }
        this.compressedGrain = largest;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        extents.map(offset, length, sink);
    }

    @Override
    protected int compressedBlockSize() {
        return compressedGrain;
    }

    @Override
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        int i = extents.indexAt(run.offset());
        long base = extents.start(i);
        extents.part(i).readCompressed(run.offset() - base, run.hostOffset(), base, dst);
    }

    @Override
    protected IOException unreadable(Run run) {
        int i = extents.indexAt(run.offset());
        ExtentLine line = lines[i];
        return new ImageException(info.name(), "range at offset " + run.offset() + " (" + run.length()
                + " bytes) " + extents.part(i).unreadableReason() + (line == null ? "" : " (" + line.cite() + ")"));
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (Extent e : extents.parts()) {
            try {
                e.close();
            } catch (IOException x) {
                failure = failure == null ? x : failure;
            }
        }
        for (Closeable c : others) {
            try {
                c.close();
            } catch (IOException x) {
                failure = failure == null ? x : failure;
            }
        }
        if (parent != null) {
            try {
                parent.close();
            } catch (IOException x) {
                failure = failure == null ? x : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
