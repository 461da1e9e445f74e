package org.vdmount.formats.qcow2;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * One open qcow2 layer, read-only: the active state or one internal snapshot. Reading, the backing
 * fall-through, read coalescing and parallel decoding come from {@link AbstractVirtualDisk}; this
 * class maps clusters and decodes compressed ones.
 */
final class Qcow2Disk extends AbstractVirtualDisk {
    private final ClusterMap clusters;
    private final CompressedClusters compressed;
    private final int clusterSize;
    private final DiskInfo info;
    /** Closed in this order: cached tables and clusters, the backing disk, an external data file, the image file. */
    private final List<Closeable> resources;

    Qcow2Disk(long size, VirtualDisk backing, ClusterMap clusters, CompressedClusters compressed,
            int clusterSize, DiskInfo info, List<Closeable> resources) {
        super(size, backing);
        this.clusters = clusters;
        this.compressed = compressed;
        this.clusterSize = clusterSize;
        this.info = info;
        this.resources = resources;
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
