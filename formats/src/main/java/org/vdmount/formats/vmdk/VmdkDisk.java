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
import org.vdmount.formats.io.Buffers;

/**
 * A VMDK disk: its extents laid end to end, over an optional parent (snapshot delta). Opened for
 * writing, writes go to the extents in place (the parent is never written) and the first write of
 * the session changes the descriptor's CID.
 */
final class VmdkDisk extends AbstractVirtualDisk {
    private final Concatenation<Extent> extents;
    private final ExtentLine[] lines;
    private final DiskInfo info;
    private final List<Closeable> others;
    private final VirtualDisk parent;
    /** The largest grain of the extents that compress theirs; 0 when none does. */
    private final int compressedGrain;
    private final boolean writable;
    private final ContentId cid;
    private final Beneath beneath = new Below();

    /**
     * @param lines  the descriptor line of each extent (entries may be null for a bare extent)
     * @param others what else to close with the disk (a descriptor file no extent uses)
     * @param cid    the CID to change on the first write, or null when the disk is read-only
     */
    VmdkDisk(Concatenation<Extent> extents, List<ExtentLine> lines, VirtualDisk parent, DiskInfo info,
            List<Closeable> others, ContentId cid) {
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
        this.writable = cid != null;
        this.cid = cid;
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
    public boolean writable() {
        return writable;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        int length = src.remaining();
        checkWrite(offset, length);
        if (length == 0) {
            return;
        }
        refuseUnwritableExtents(offset, length, false);
        cid.changeOnce();
        long pos = offset;
        while (src.hasRemaining()) {
            int i = extents.indexAt(pos);
            long base = extents.start(i);
            Extent extent = extents.part(i);
            int n = (int) Math.min(src.remaining(), base + extent.length() - pos);
            extent.write(src.slice().limit(n), pos - base, base, beneath);
            src.position(src.position() + n);
            pos += n;
        }
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkWrite(offset, length);
        if (length == 0) {
            return;
        }
        refuseUnwritableExtents(offset, length, true);
        cid.changeOnce();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int i = extents.indexAt(pos);
            long base = extents.start(i);
            Extent extent = extents.part(i);
            long n = Math.min(end - pos, base + extent.length() - pos);
            extent.discard(pos - base, n, base, beneath);
            pos += n;
        }
    }

    @Override
    public void flush() throws IOException {
        if (!writable) {
            return;
        }
        for (Extent e : extents.parts()) {
            e.flush();
        }
    }

    /**
     * A write that reaches an extent which cannot take it (ZERO, NOACCESS, RDONLY) fails before any
     * of its bytes are written, so a failed write changes nothing. A discard may cover a ZERO
     * extent, which reads as zeros already.
     */
    private void refuseUnwritableExtents(long offset, long length, boolean discard) throws IOException {
        for (int i = extents.indexAt(offset); i < extents.count() && extents.start(i) < offset + length; i++) {
            boolean zeros = discard && lines[i] != null && lines[i].zero();
            String why = extents.part(i).length() == 0 || zeros ? null : extents.part(i).unwritable();
            if (why != null) {
                ExtentLine line = lines[i];
                String cite = line == null || why.contains(line.text()) ? "" : " (" + line.cite() + ")";
                throw new ImageException(info.name(), "cannot write " + length + " bytes at offset " + offset
                        + ": the range reaches an extent that cannot be written" + cite + ": " + why);
            }
        }
    }

    private void checkWrite(long offset, long length) throws IOException {
        checkRange(offset, length);
        if (!writable) {
            throw new ImageException(info.name(), "this disk is read-only");
        }
    }

    /** The parent's bytes where it has them, zeros past its end or without one. */
    private final class Below implements Beneath {
        @Override
        public void read(ByteBuffer dst, long offset) throws IOException {
            long parentEnd = parent == null ? offset : Math.max(offset, Math.min(offset + dst.remaining(), parent.size()));
            if (parentEnd > offset) {
                ByteBuffer head = dst.slice().limit((int) (parentEnd - offset));
                parent.read(head, offset);
                dst.position(dst.position() + head.limit());
            }
            Buffers.fillZeros(dst);
        }

        @Override
        public boolean zeros(long offset, long length) throws IOException {
            if (parent == null || offset >= parent.size()) {
                return true;
            }
            boolean[] all = {true};
            parent.map(offset, Math.min(length, parent.size() - offset), run -> {
                if (!run.kind().readsAsZero()) {
                    all[0] = false;
                }
            });
            return all[0];
        }
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
