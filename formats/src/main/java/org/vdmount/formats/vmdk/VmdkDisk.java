package org.vdmount.formats.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/** A VMDK disk: its extents laid end to end, over an optional parent (snapshot delta). */
final class VmdkDisk extends AbstractVirtualDisk {
    private final Extent[] extents;
    private final ExtentLine[] lines;
    private final long[] starts;
    private final DiskInfo info;
    private final List<Closeable> others;
    private final VirtualDisk parent;
    /** Whether any extent compresses its grains, and the smallest grain of those that have grains. */
    private final boolean compressed;
    private final long minGrain;
    private static final int PARALLEL_MIN_GRAINS = 4;

    /**
     * @param lines  the descriptor line of each extent (entries may be null for a bare extent)
     * @param others what else to close with the disk (a descriptor file no extent uses)
     */
    VmdkDisk(List<Extent> extents, List<ExtentLine> lines, VirtualDisk parent, DiskInfo info, List<Closeable> others) {
        super(total(extents), parent);
        this.extents = extents.toArray(Extent[]::new);
        this.lines = lines.toArray(ExtentLine[]::new);
        this.starts = new long[this.extents.length];
        long at = 0;
        for (int i = 0; i < this.extents.length; i++) {
            starts[i] = at;
            at += this.extents[i].length();
        }
        this.info = info;
        this.others = others;
        this.parent = parent;
        boolean anyCompressed = false;
        long smallest = Long.MAX_VALUE;
        for (Extent e : this.extents) {
            anyCompressed |= e.compressedGrains();
            if (e.grainBytes() > 0) {
                smallest = Math.min(smallest, e.grainBytes());
            }
        }
        this.compressed = anyCompressed;
        this.minGrain = smallest == Long.MAX_VALUE ? 0 : smallest;
    }

    private static long total(List<Extent> extents) {
        long sum = 0;
        for (Extent e : extents) {
            sum += e.length();
        }
        return sum;
    }

    private int extentAt(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        long pos = offset;
        long end = offset + length;
        int i = extentAt(pos);
        while (pos < end) {
            // Skip extents of length 0 would be impossible: the descriptor refuses them.
            long start = starts[i];
            long stop = Math.min(end, start + extents[i].length());
            extents[i].map(pos - start, stop - pos, start, sink);
            pos = stop;
            i++;
        }
    }

    /**
     * Large reads of compressed disks (streamOptimized, OVAs) inflate their grains in parallel: the
     * calling thread and the common pool share the grains, everything else reads as usual.
     */
    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        if (!compressed || length < PARALLEL_MIN_GRAINS * minGrain) {
            super.read(dst, offset);
            return;
        }
        checkRange(offset, length);
        List<Run> runs = new ArrayList<>();
        mapLocal(offset, length, runs::add);
        List<Run> grains = runs.stream().filter(r -> r.kind() == RunKind.COMPRESSED).toList();
        if (grains.size() < PARALLEL_MIN_GRAINS) {
            super.read(dst, offset);
            return;
        }
        int base = dst.position();
        long stretch = -1;
        for (Run run : runs) {
            if (run.kind() == RunKind.COMPRESSED) {
                if (stretch >= 0) {
                    super.read(part(dst, base, offset, stretch, run.offset()), stretch);
                    stretch = -1;
                }
            } else if (stretch < 0) {
                stretch = run.offset();
            }
        }
        if (stretch >= 0) {
            super.read(part(dst, base, offset, stretch, offset + length), stretch);
        }
        try {
            grains.parallelStream().forEach(run -> {
                try {
                    readCompressed(run, part(dst, base, offset, run.offset(), run.end()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            // A pool thread's exception may arrive wrapped once more; report the format's own.
            Throwable cause = e;
            while (cause instanceof UncheckedIOException u && u.getCause() != null) {
                cause = u.getCause();
            }
            throw cause instanceof IOException io ? io : e.getCause();
        }
        dst.position(base + length);
    }

    private static ByteBuffer part(ByteBuffer dst, int base, long offset, long from, long to) {
        int at = base + (int) (from - offset);
        return dst.duplicate().limit(at + (int) (to - from)).position(at);
    }

    @Override
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        int i = extentAt(run.offset());
        extents[i].readCompressed(run.offset() - starts[i], run.hostOffset(), dst);
    }

    @Override
    protected IOException unreadable(Run run) {
        int i = extentAt(run.offset());
        ExtentLine line = lines[i];
        return new ImageException(info.name(), "range at offset " + run.offset() + " (" + run.length()
                + " bytes) " + extents[i].unreadableReason() + (line == null ? "" : " (" + line.cite() + ")"));
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (Extent e : extents) {
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
