package org.vdmount.formats.ova;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.SliceStorage;

/** One disk of an OVA, read in place from its tar entry; {@link #info} lists all the disks. */
final class OvaDisk implements VirtualDisk {
    private final Storage archive;
    private final VirtualDisk disk;
    private final DiskInfo info;

    private OvaDisk(Storage archive, VirtualDisk disk, DiskInfo info) {
        this.archive = archive;
        this.disk = disk;
        this.info = info;
    }

    static OvaDisk open(Storage archive, List<TarArchiveEntry> disks, int number, OpenContext context)
            throws IOException {
        DiskInfo info = new DiskInfo(archive.name(), "ova").fileSize(archive.size());
        VirtualDisk disk = openMember(archive, disks.get(number - 1), context, true);
        info.detail("disks", disks.size());
        for (int i = 0; i < disks.size(); i++) {
            info.detail("disk." + (i + 1), i == number - 1 ? describe(disks.get(i), disk) : describe(archive, disks.get(i)));
        }
        info.detail("opened", "disk." + number);
        DiskInfo inner = disk.info();
        info.subformat(inner.format() + (inner.subformat() == null ? "" : " " + inner.subformat()))
                .virtualSize(disk.size()).clusterSize(inner.clusterSize()).compression(inner.compression());
        for (Map.Entry<String, Object> d : inner.details().entrySet()) {
            info.details().putIfAbsent(d.getKey(), d.getValue());
        }
        info.files().add(archive.name());
        return new OvaDisk(archive, disk, info);
    }

    /**
     * Opens one member in place. A member cut short by the end of the archive (a download that
     * stopped) is opened with what is there, with a warning: its format decides what still reads.
     */
    private static VirtualDisk openMember(Storage archive, TarArchiveEntry entry, OpenContext context, boolean warn)
            throws IOException {
        long start = entry.getDataOffset();
        long size = entry.getSize();
        long archiveSize = archive.size();
        if (start < 0 || size < 0 || start >= archiveSize && size > 0) {
            throw new ImageException(archive.name(), "OVA member " + entry.getName()
                    + " lies past the end of the archive (truncated download?)");
        }
        if (size > archiveSize - start) {
            if (warn) {
                context.warn(archive.name() + ": OVA member " + entry.getName() + " is cut short: "
                        + (archiveSize - start) + " of its " + size + " bytes are in the archive");
            }
            size = archiveSize - start;
        }
        Storage slice = new SliceStorage(archive, start, size, archive.name() + ":" + entry.getName());
        if (entry.getName().toLowerCase(java.util.Locale.ROOT).endsWith(".gz")) {
            throw new ImageException(slice.name(), "gzip-compressed OVA disks cannot be read in place; "
                    + "extract and gunzip it first");
        }
        ImageFormat format = Images.probe(slice);
        return format.open(slice, context);
    }

    private static String describe(TarArchiveEntry entry, VirtualDisk disk) {
        DiskInfo i = disk.info();
        return entry.getName() + ", " + entry.getSize() + " bytes in the archive, " + i.format()
                + (i.subformat() == null ? "" : " " + i.subformat()) + ", virtual size " + disk.size();
    }

    /** The disks not opened are only probed: opening them would repeat their warnings. */
    private static String describe(Storage archive, TarArchiveEntry entry) {
        String what = entry.getName() + ", " + entry.getSize() + " bytes in the archive";
        long start = entry.getDataOffset();
        try {
            long size = Math.min(entry.getSize(), Math.max(0, archive.size() - start));
            Storage slice = new SliceStorage(archive, start, size, archive.name() + ":" + entry.getName());
            return what + ", " + Images.probe(slice).name();
        } catch (IOException e) {
            return what;
        }
    }

    @Override
    public long size() {
        return disk.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        disk.read(dst, offset);
    }

    @Override
    public void map(long offset, long length, RunSink sink) throws IOException {
        disk.map(offset, length, sink);
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return disk.backing();
    }

    @Override
    public void close() throws IOException {
        try {
            disk.close();
        } finally {
            archive.close();
        }
    }
}
