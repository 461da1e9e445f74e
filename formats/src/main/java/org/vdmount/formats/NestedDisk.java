package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;

/**
 * An image found inside evidence: reads are the inner image's, and {@link #info} shows both layers
 * (the inner format's own, then the evidence's as {@code evidence.*} details and its files).
 */
public final class NestedDisk implements VirtualDisk {
    private final VirtualDisk container;
    private final VirtualDisk inner;

    NestedDisk(VirtualDisk container, VirtualDisk inner) {
        this.container = container;
        this.inner = inner;
    }

    /** The evidence the inner image was found in (what verify checks against its acquisition). */
    public VirtualDisk container() {
        return container;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        inner.read(dst, offset);
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        inner.map(offset, length, sink);
    }

    @Override
    public DiskInfo info() {
        DiskInfo own = inner.info();
        DiskInfo outer = container.info();
        DiskInfo info = new DiskInfo(outer.name(), own.format()).subformat(own.subformat())
                .virtualSize(own.virtualSize()).fileSize(outer.fileSize()).clusterSize(own.clusterSize())
                .compression(own.compression());
        info.details().putAll(own.details());
        info.detail("evidence.format", outer.format() + (outer.subformat() == null ? "" : " " + outer.subformat()));
        info.detail("evidence.media-size", outer.virtualSize());
        for (Map.Entry<String, Object> d : outer.details().entrySet()) {
            info.details().putIfAbsent("evidence." + d.getKey(), d.getValue());
        }
        info.snapshots().addAll(own.snapshots());
        info.files().addAll(outer.files());
        return info;
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return inner.backing();
    }

    @Override
    public void close() throws IOException {
        inner.close(); // closes its storage, the container's media
    }
}
