package org.vdmount.mounter.transport.fuse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/** An in-memory disk whose map says ZERO outside the given data ranges: holes to seek over. */
final class HoleyDisk implements VirtualDisk {
    private final byte[] bytes;
    private final long[][] dataRanges;

    /** {@code dataRanges}: sorted {start, end} pairs; bytes there are non-zero, the rest zero. */
    HoleyDisk(int size, long[]... dataRanges) {
        this.bytes = new byte[size];
        this.dataRanges = dataRanges;
        for (long[] r : dataRanges) {
            for (long i = r[0]; i < r[1]; i++) {
                bytes[(int) i] = (byte) (i * 31 + 7 | 1);
            }
        }
    }

    byte[] bytes() {
        return bytes;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(ByteBuffer dst, long offset) {
        dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        long pos = offset;
        long end = offset + length;
        for (long[] r : dataRanges) {
            if (r[1] <= pos || r[0] >= end) {
                continue;
            }
            if (r[0] > pos) {
                sink.accept(Run.of(RunKind.ZERO, pos, r[0] - pos));
                pos = r[0];
            }
            long stop = Math.min(r[1], end);
            sink.accept(Run.of(RunKind.DATA, pos, stop - pos));
            pos = stop;
        }
        if (pos < end) {
            sink.accept(Run.of(RunKind.UNALLOCATED, pos, end - pos));
        }
    }

    @Override
    public DiskInfo info() {
        return new DiskInfo("holey", "test").virtualSize(bytes.length);
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return Optional.empty();
    }

    @Override
    public void close() {
    }
}
