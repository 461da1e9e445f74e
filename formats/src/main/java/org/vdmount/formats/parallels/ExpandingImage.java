package org.vdmount.formats.parallels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.PagedTable;

/**
 * One expanding Parallels image: clusters of {@code tracks} sectors, each placed by the BAT or not
 * allocated (0: the layer below decides, or zeros). A part of a bundle's layer, or a disk alone.
 */
final class ExpandingImage implements Concatenation.Part, AutoCloseable {
    /** qemu's limit on a cluster: tracks * 513 must stay below 2^31. */
    static final long MAX_TRACKS = Integer.MAX_VALUE / 513;

    private final Storage storage;
    private final ParallelsHeader header;
    private final long length;
    private final long clusterBytes;
    private final long fileSize;
    private final long batEnd;
    private final PagedTable bat;

    private ExpandingImage(Storage storage, ParallelsHeader header, long length) throws IOException {
        this.storage = storage;
        this.header = header;
        this.length = length;
        this.clusterBytes = header.tracks() * 512;
        this.fileSize = storage.size();
        this.batEnd = ParallelsHeader.SIZE + 4 * header.batEntries();
        this.bat = new PagedTable(storage, ParallelsHeader.SIZE, header.batEntries(), 4, ByteOrder.LITTLE_ENDIAN);
    }

    /** Opens the image in {@code storage}; {@code length} (bytes) &lt; 0 means its own size. */
    static ExpandingImage open(Storage storage, long length) throws IOException {
        String file = storage.name();
        long fileSize = storage.size();
        if (fileSize < ParallelsHeader.SIZE) {
            throw new ImageException(file, "too short for a Parallels image (" + fileSize + " bytes)");
        }
        ByteBuffer raw = ByteBuffer.allocate(ParallelsHeader.SIZE);
        storage.readFully(raw, 0);
        if (!ParallelsHeader.hasMagic(raw.flip())) {
            throw new ImageException(file, "not a Parallels image (no \"WithoutFreeSpace\" header of version 2)");
        }
        ParallelsHeader h = ParallelsHeader.parse(raw);
        if (h.tracks() == 0 || h.tracks() > MAX_TRACKS) {
            throw new ImageException(file, "cluster of " + h.tracks() + " sectors is out of range (1 to " + MAX_TRACKS
                    + ")");
        }
        // A BAT shorter than the disk leaves the clusters past it unallocated, as qemu reads them.
        if (ParallelsHeader.SIZE + 4 * h.batEntries() > fileSize) {
            throw new ImageException(file, "BAT of " + h.batEntries() + " entries lies past the end of the "
                    + fileSize + "-byte file");
        }
        if (h.sectors() > (1L << 55) / 512) {
            throw new ImageException(file, "size of " + h.sectors() + " sectors is out of range");
        }
        return new ExpandingImage(storage, h, length < 0 ? h.sectors() * 512 : length);
    }

    ParallelsHeader header() {
        return header;
    }

    long ownSize() {
        return header.sectors() * 512;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void map(long offset, long len, long base, RunSink sink) throws IOException {
        RunMerger out = new RunMerger(sink);
        long pos = offset;
        long end = offset + len;
        while (pos < end) {
            long cluster = pos / clusterBytes;
            long clusterStart = cluster * clusterBytes;
            long stop = Math.min(end, clusterStart + clusterBytes);
            long entry = cluster < bat.entries() ? bat.get(cluster) : 0;
            if (entry == 0) {
                out.add(RunKind.BACKING, base + pos, stop - pos);
            } else {
                out.add(RunKind.DATA, base + pos, stop - pos, storage, clusterAt(cluster, entry) + (pos - clusterStart));
            }
            pos = stop;
        }
        out.flush();
    }

    private long clusterAt(long cluster, long entry) throws ImageException {
        long at = entry * header.entryUnit() * 512;
        if (at < batEnd) {
            throw new ImageException(storage.name(), "cluster " + cluster + " is placed at offset " + at
                    + ", inside the header and BAT (which end at " + batEnd + ")");
        }
        if (at > fileSize - Math.min(clusterBytes, Math.max(0, ownSize() - cluster * clusterBytes))) {
            throw new ImageException(storage.name(), "cluster " + cluster + " at offset " + at + " lies past the end "
                    + "of the " + fileSize + "-byte file: the image is truncated");
        }
        return at;
    }

    @Override
    public void close() throws IOException {
        bat.clear();
        storage.close();
    }

    @Override
    public String toString() {
        return storage.name();
    }
}
