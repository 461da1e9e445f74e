package org.vdmount.formats.qcow2;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.Lock;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * One open qcow2 layer: the active state or one internal snapshot. Reading, the backing
 * fall-through, read coalescing and parallel decoding come from {@link AbstractVirtualDisk}; this
 * class maps clusters and decodes compressed ones. The active state of a top image opened for
 * writing also has a {@link Qcow2Writer}, whose lock readers then hold.
 */
final class Qcow2Disk extends AbstractVirtualDisk {
    private final ClusterMap clusters;
    private final CompressedClusters compressed;
    private final int clusterSize;
    private final DiskInfo info;
    /** Closed in this order: cached tables and clusters, the backing disk, an external data file, the image file. */
    private final List<Closeable> resources;
    private Qcow2Writer writer;

    Qcow2Disk(long size, VirtualDisk backing, ClusterMap clusters, CompressedClusters compressed,
            int clusterSize, DiskInfo info, List<Closeable> resources) {
        super(size, backing);
        this.clusters = clusters;
        this.compressed = compressed;
        this.clusterSize = clusterSize;
        this.info = info;
        this.resources = resources;
    }

    /** Makes this disk writable through {@code writer}; called once, before the disk is shared. */
    void writeThrough(Qcow2Writer writer) {
        this.writer = writer;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        if (writer == null) {
            super.read(dst, offset);
            return;
        }
        Lock lock = writer.lock().readLock();
        lock.lock();
        try {
            super.read(dst, offset);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        if (writer == null) {
            super.map(offset, length, sink);
            return;
        }
        Lock lock = writer.lock().readLock();
        lock.lock();
        try {
            super.map(offset, length, sink);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean writable() {
        return writer != null;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkWritable();
        checkRange(offset, src.remaining());
        if (src.hasRemaining()) {
            writer.write(src, offset);
        }
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkWritable();
        checkRange(offset, length);
        if (length > 0) {
            writer.zero(offset, length);
        }
    }

    @Override
    public void flush() throws IOException {
        if (writer != null) {
            writer.flush();
        }
    }

    private void checkWritable() throws IOException {
        if (writer == null) {
            throw new ImageException(info.name(), "this disk is read-only");
        }
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        clusters.map(offset, length, sink);
    }

    @Override
    protected int compressedBlockSize() {
        return clusterSize;
    }

    @Override
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        long clusterStart = run.offset() & -(long) clusterSize;
        int from = (int) (run.offset() - clusterStart);
        ByteBuffer part = dst.remaining() == run.length() ? dst : dst.slice().limit((int) run.length());
        compressed.read(run.hostOffset(), clusterStart, from, part);
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        if (writer != null) {
            try {
                writer.flush();
            } catch (IOException e) {
                first = e;
            }
        }
        for (Closeable c : resources) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
