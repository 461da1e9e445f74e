package org.vdmount.formats.qcow2;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.compress.Codec;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.io.Text;

/**
 * Opens one qcow2 image: checks the header and its extensions, chooses the L1 table (active or a
 * snapshot's), opens the external data file and the backing chain, and assembles the disk.
 */
final class Qcow2Opener {
    /** qemu's limit on an L1 table (32 MiB): a larger one is hostile, whatever the file size. */
    static final long MAX_L1_ENTRIES = (32L << 20) / Long.BYTES;
    /** qemu's limit on a backing file name. */
    static final int MAX_BACKING_NAME = 1023;

    private final Storage storage;
    private final OpenContext context;
    private final String file;

    private Qcow2Opener(Storage storage, OpenContext context) {
        this.storage = storage;
        this.context = context;
        this.file = storage.name();
    }

    static VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new Qcow2Opener(storage, context).open();
    }

    private VirtualDisk open() throws IOException {
        long fileSize = storage.size();
        Qcow2Header header = Qcow2Header.read(storage, fileSize);
        HeaderExtensions ext = HeaderExtensions.read(storage, header, fileSize);
        checkFeatures(header, ext);
        String compression = compression(header);
        boolean writable = context.isTop() && context.options().writable() && storage.writable()
                && context.options().snapshot() == null;
        if (writable) {
            WriteRefusals.check(file, header);
        }
        if (header.hasIncompatible(Qcow2Header.INCOMPAT_DIRTY)) {
            context.warn(file + ": the image was not closed cleanly (dirty bit set); reading it read-only anyway");
        }
        if (header.hasIncompatible(Qcow2Header.INCOMPAT_CORRUPT)) {
            context.warn(file + ": the image is marked corrupt; reading it read-only anyway, data may be wrong");
        }

        List<SnapshotTable.Entry> snapshots = SnapshotTable.read(storage, header, fileSize);
        SnapshotTable.Entry snapshot = chosenSnapshot(snapshots);
        long size = snapshot == null ? header.size() : snapshot.diskSize();
        long l1Entries = snapshot == null ? header.l1Size() : snapshot.l1Size();
        long l1Offset = snapshot == null ? header.l1TableOffset() : snapshot.l1Offset();
        String l1Name = snapshot == null ? "L1 table" : "L1 table of snapshot '" + snapshot.name() + "'";
        long needed = ClusterMap.l1EntriesFor(header, size);
        if (needed > MAX_L1_ENTRIES) {
            throw new ImageException(file, "virtual size " + size + " is too large for cluster size "
                    + header.clusterSize());
        }
        if (snapshot == null && l1Entries < needed) {
            throw new ImageException(file, "L1 table has " + l1Entries + " entries, too few for the virtual size "
                    + size + " (needs " + needed + ")");
        }
        long[] l1 = readL1(l1Name, Math.min(l1Entries, needed), l1Entries, l1Offset, header, fileSize);
        String backingName = backingName(storage, header, fileSize);

        List<Closeable> resources = new ArrayList<>();
        Storage data = storage;
        VirtualDisk backing = null;
        try {
            String dataFile = null;
            if (header.hasIncompatible(Qcow2Header.INCOMPAT_DATA_FILE)) {
                if (ext.dataFileName == null || ext.dataFileName.isEmpty()) {
                    throw new ImageException(file, "uses an external data file but does not name it");
                }
                Path path = context.find(storage, RelatedFile.of("external data file", ext.dataFileName)
                        .exact(ext.dataFileName, null));
                // Written through when the image is: guest data goes there, metadata to the image.
                Storage opened = context.openFile(path, path.toString(), writable);
                resources.add(opened);
                data = opened;
                dataFile = path.toString();
            }
            if (backingName != null) {
                backing = context.openBacking(storage, backingName, ext.backingFormat);
                if (backing != null) { // null: opened as its own layer alone, on purpose
                    resources.add(0, backing);
                }
            }
            resources.add(storage);
            if (writable && dataFile != null) {
                WriteRefusals.checkDataFile(file, Path.of(dataFile), chainFiles(backing));
            }

            int clusterBits = header.clusterBits();
            L2Cache l2Cache = new L2Cache(storage, header.clusterSize(), fileSize);
            ClusterMap map = new ClusterMap(file, header, l1, l2Cache, storage, data);
            CompressedClusters compressed = new CompressedClusters(storage, clusterBits, fileSize,
                    header.compressionType() == 1 ? Codec.Kind.ZSTD : Codec.Kind.DEFLATE);
            DiskInfo info = info(header, ext, size, fileSize, compression, backingName, dataFile, data, snapshots,
                    snapshot);
            resources.add(0, () -> {
                l2Cache.clear();
                compressed.clear();
            });
            Qcow2Disk disk = new Qcow2Disk(size, backing, map, compressed, header.clusterSize(), info, resources);
            if (writable) {
                disk.writeThrough(writer(header, size, l1, l2Cache, backing != null, disk, data, fileSize));
            }
            return disk;
        } catch (IOException | RuntimeException e) {
            for (Closeable c : resources) {
                if (c != storage) {
                    try {
                        c.close();
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** The files of this image and of its backing chain. */
    private List<String> chainFiles(VirtualDisk backing) {
        List<String> files = new ArrayList<>();
        storage.path().ifPresent(p -> files.add(p.toString()));
        for (VirtualDisk layer = backing; layer != null; layer = layer.backing().orElse(null)) {
            files.addAll(layer.info().files());
        }
        return files;
    }

    private Qcow2Writer writer(Qcow2Header header, long size, long[] l1, L2Cache l2Cache, boolean hasBacking,
            Qcow2Disk disk, Storage data, long fileSize) throws IOException {
        Refcounts refcounts = Refcounts.open(storage, header, fileSize);
        L2Updater tables = new L2Updater(storage, l1, header.l1TableOffset(), l2Cache, refcounts, header);
        HostClusters hosts = new HostClusters(storage, data, header, refcounts);
        GuestWriter clusters = GuestWriter.of(header, size, hasBacking, tables, hosts, disk::read);
        return new Qcow2Writer(storage, header, refcounts, tables, clusters, hosts);
    }

    private void checkFeatures(Qcow2Header header, HeaderExtensions ext) throws ImageException {
        long unknown = header.incompatibleFeatures() & ~Qcow2Header.KNOWN_INCOMPATIBLE;
        if (unknown != 0) {
            List<String> bits = new ArrayList<>();
            for (int bit = 0; bit < 64; bit++) {
                if ((unknown & (1L << bit)) != 0) {
                    String name = ext.featureName(0, bit);
                    bits.add(name == null ? "bit " + bit : "bit " + bit + " (" + name + ")");
                }
            }
            throw new ImageException(file, "uses unsupported incompatible features: " + String.join(", ", bits));
        }
        if (header.extendedL2() && header.clusterBits() < 14) {
            throw new ImageException(file, "extended L2 entries need clusters of at least 16 KiB, not "
                    + header.clusterSize());
        }
    }

    private String compression(Qcow2Header header) throws ImageException {
        boolean flagged = header.hasIncompatible(Qcow2Header.INCOMPAT_COMPRESSION_TYPE);
        int type = header.compressionType();
        if (flagged != (type != 0)) {
            throw new ImageException(file, flagged
                    ? "the compression type bit is set but compression_type is 0"
                    : "compression_type is " + type + " but the compression type bit is not set");
        }
        return switch (type) {
            case 0 -> "deflate";
            case 1 -> "zstd";
            default -> throw new ImageException(file, "unknown compression type " + type);
        };
    }

    private SnapshotTable.Entry chosenSnapshot(List<SnapshotTable.Entry> snapshots) throws ImageException {
        String wanted = context.isTop() ? context.options().snapshot() : null;
        if (wanted == null) {
            return null;
        }
        for (SnapshotTable.Entry s : snapshots) {
            if (s.id().equals(wanted)) {
                return s;
            }
        }
        for (SnapshotTable.Entry s : snapshots) {
            if (s.name().equals(wanted)) {
                return s;
            }
        }
        String available = snapshots.isEmpty() ? "the image has no snapshots"
                : "available: " + snapshots.stream().map(s -> s.id() + " (" + s.name() + ")")
                        .collect(Collectors.joining(", "));
        throw new ImageException(file, "no snapshot '" + Text.printable(wanted) + "'; " + available);
    }

    /**
     * Reads the first {@code used} of the table's {@code entries}: entries past what the virtual size
     * needs are never consulted, so they are neither read nor kept.
     */
    private long[] readL1(String what, long used, long entries, long offset, Qcow2Header header, long fileSize)
            throws IOException {
        if (entries > MAX_L1_ENTRIES) {
            throw new ImageException(file, what + " has " + entries + " entries, more than the limit of "
                    + MAX_L1_ENTRIES);
        }
        if (used == 0) {
            return new long[0];
        }
        if (offset <= 0 || (offset & (header.clusterSize() - 1)) != 0 || offset > fileSize
                || used * Long.BYTES > fileSize - offset) {
            throw new ImageException(file, what + " at offset " + Long.toUnsignedString(offset) + " ("
                    + entries + " entries) is unaligned or past the end of the " + fileSize + "-byte file");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) (used * Long.BYTES));
        storage.readFully(bytes, offset);
        bytes.flip();
        long[] l1 = new long[(int) used];
        bytes.asLongBuffer().get(l1);
        return l1;
    }

    /** The backing file name the header points to, checked to lie in the header cluster; null if none. */
    static String backingName(Storage storage, Qcow2Header header, long fileSize) throws IOException {
        String file = storage.name();
        long offset = header.backingFileOffset();
        long length = Integer.toUnsignedLong(header.backingFileSize());
        if (offset == 0 || length == 0) {
            return null;
        }
        if (length > MAX_BACKING_NAME) {
            throw new ImageException(file, "backing file name is " + length + " bytes long (limit "
                    + MAX_BACKING_NAME + ")");
        }
        if (offset < 0 || offset + length > header.clusterSize() || offset + length > fileSize) {
            throw new ImageException(file, "backing file name at offset " + Long.toUnsignedString(offset)
                    + " lies outside the header cluster or the file");
        }
        ByteBuffer name = ByteBuffer.allocate((int) length);
        storage.readFully(name, offset);
        return new String(name.array(), StandardCharsets.UTF_8);
    }

    private DiskInfo info(Qcow2Header header, HeaderExtensions ext, long size, long fileSize, String compression,
            String backingName, String dataFile, Storage data, List<SnapshotTable.Entry> snapshots,
            SnapshotTable.Entry snapshot) throws IOException {
        DiskInfo info = new DiskInfo(file, "qcow2")
                .subformat("v" + header.version())
                .virtualSize(size)
                .fileSize(fileSize + (data != storage ? data.size() : 0))
                .clusterSize(header.clusterSize())
                .compression(compression);
        info.files().add(file);
        info.detail("version", header.version());
        info.detail("refcount-bits", 1 << header.refcountOrder());
        info.detail("extended-l2", header.extendedL2());
        info.detail("lazy-refcounts", header.hasCompatible(Qcow2Header.COMPAT_LAZY_REFCOUNTS));
        if (dataFile != null) {
            info.files().add(dataFile);
            info.detail("data-file", Text.printable(ext.dataFileName));
            info.detail("data-file-raw", header.hasAutoclear(Qcow2Header.AUTOCLEAR_DATA_FILE_RAW));
        }
        if (backingName != null) {
            info.detail("backing-file", Text.printable(backingName));
            if (ext.backingFormat != null) {
                info.detail("backing-format", Text.printable(ext.backingFormat));
            }
        }
        if (ext.bitmaps) {
            info.detail("bitmaps", "present (ignored)");
        }
        info.detail("dirty", header.hasIncompatible(Qcow2Header.INCOMPAT_DIRTY));
        info.detail("corrupt", header.hasIncompatible(Qcow2Header.INCOMPAT_CORRUPT));
        if (snapshot != null) {
            info.detail("reading-snapshot", snapshot.id() + " (" + snapshot.name() + ")");
        }
        for (SnapshotTable.Entry s : snapshots) {
            info.snapshots().add(s.info());
        }
        return info;
    }
}
