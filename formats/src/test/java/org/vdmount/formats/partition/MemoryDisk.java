package org.vdmount.formats.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/** A disk held in a byte array, for hand-built tables. */
final class MemoryDisk implements VirtualDisk {
    private final byte[] bytes;
    private final DiskInfo info;

    MemoryDisk(byte[] bytes) {
        this.bytes = bytes;
        this.info = new DiskInfo("memory.img", "raw").virtualSize(bytes.length);
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        if (offset < 0 || offset > bytes.length || dst.remaining() > bytes.length - offset) {
            throw new ImageException(info.name(), "read outside the disk");
        }
        dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        sink.accept(Run.of(RunKind.ZERO, offset, length));
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
    }
}
