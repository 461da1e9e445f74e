package org.vdmount.formats.parallels;

import java.io.IOException;
import java.util.List;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * A Parallels disk, or one snapshot layer of a bundle: its storages laid end to end over the
 * layer below (the parent snapshot), whose bytes show where this layer's images allocate nothing.
 */
final class ParallelsDisk extends AbstractVirtualDisk {
    private final Concatenation<Concatenation.Part> parts;
    private final DiskInfo info;
    private final VirtualDisk parent;
    private final List<AutoCloseable> closeables;

    ParallelsDisk(Concatenation<Concatenation.Part> parts, VirtualDisk parent, DiskInfo info,
            List<AutoCloseable> closeables) {
        super(parts.size(), parent);
        this.parts = parts;
        this.info = info;
        this.parent = parent;
        this.closeables = closeables;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        parts.map(offset, length, sink);
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof IOException io ? io : new IOException(e);
                }
            }
        }
        if (parent != null) {
            parent.close();
        }
        if (failure != null) {
            throw failure;
        }
    }
}
