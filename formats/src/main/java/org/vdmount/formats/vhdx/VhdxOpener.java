package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.Text;

/**
 * Opens one VHDX: the current header, the log replayed in memory when it holds a sequence, a valid
 * region table, the metadata, the BAT's size and place, and the parent of a differencing disk.
 */
final class VhdxOpener {
    static final String SIGNATURE = "vhdxfile";
    static final long MIN_BLOCK = 1L << 20;
    static final long MAX_BLOCK = 256L << 20;
    /** 64 TiB, the specification's limit. */
    static final long MAX_SIZE = 64L << 40;
    private static final long MB = 1 << 20;

    private final Storage file;
    private final OpenContext context;
    private final String name;

    VhdxOpener(Storage file, OpenContext context) {
        this.file = file;
        this.context = context;
        this.name = file.name();
    }

    VirtualDisk open() throws IOException {
        long fileSize = file.size();
        if (fileSize < 1 << 20) {
            throw new ImageException(name, "too short for a VHDX (" + fileSize + " bytes; the headers alone take 1 MiB)");
        }
        ByteBuffer id = read(file, 0, 520);
        String creator = new String(id.array(), 8, 512, StandardCharsets.UTF_16LE);
        creator = creator.indexOf('\0') >= 0 ? creator.substring(0, creator.indexOf('\0')) : creator;
        VhdxHeader header = currentHeader();
        DiskInfo info = new DiskInfo(name, "vhdx");
        info.files().add(name);
        Storage storage = file;
        if (header.hasLog()) {
            PatchedStorage patched = new PatchedStorage(file);
            LogReplay.Result replayed = new LogReplay(file, header).replay(patched);
            if (replayed != null) {
                storage = patched;
                context.warn(name + ": the image was not closed cleanly; its log (" + replayed.entries()
                        + " entries) was replayed in memory, the file is unchanged");
                info.detail("log", "replayed in memory: " + replayed.entries() + " entries (sequence "
                        + replayed.firstSequence() + " to " + replayed.lastSequence() + "), "
                        + replayed.dataSectors() + " sectors written, " + replayed.zeroRanges() + " ranges zeroed");
            } else {
                info.detail("log", "no active sequence to replay");
            }
        }
        RegionTable regions = regionTable(storage);
        for (RegionTable.Region r : regions.regions()) {
            boolean known = r.guid().equals(RegionTable.BAT) || r.guid().equals(RegionTable.METADATA);
            if (r.required() && !known) {
                throw new ImageException(name, "required region {" + r.guid() + "} is one vdmount does not know");
            }
        }
        RegionTable.Region batRegion = need(regions, RegionTable.BAT, fileSize(storage));
        RegionTable.Region metaRegion = need(regions, RegionTable.METADATA, fileSize(storage));
        Metadata m = Metadata.read(storage, metaRegion);
        check(m);
        long chunkRatio = (1L << 23) * m.logicalSectorSize / m.blockSize;
        long dataBlocks = (m.virtualSize + m.blockSize - 1) / m.blockSize;
        long bitmapBlocks = (dataBlocks + chunkRatio - 1) / chunkRatio;
        long entries = m.hasParent ? bitmapBlocks * (chunkRatio + 1)
                : dataBlocks + (dataBlocks == 0 ? 0 : (dataBlocks - 1) / chunkRatio);
        if (entries * 8 > batRegion.length()) {
            throw new ImageException(name, "the BAT region (" + batRegion.length() + " bytes) is too small for the "
                    + entries + " entries a disk of " + m.virtualSize + " bytes needs");
        }
        long[][] reserved = {
            {0, MB},
            {header.logOffset(), header.logOffset() + header.logLength()},
            {batRegion.offset(), batRegion.offset() + batRegion.length()},
            {metaRegion.offset(), metaRegion.offset() + metaRegion.length()}};
        describe(info, header, m, creator, chunkRatio, fileSize);
        VirtualDisk parent = m.hasParent ? openParent(m, info) : null;
        try {
            return new VhdxDisk(storage, m.virtualSize, m, chunkRatio, batRegion, entries, reserved, parent, info);
        } catch (IOException | RuntimeException e) {
            if (parent != null) {
                parent.close();
            }
            throw e;
        }
    }

    /** The valid header with the higher sequence number. */
    private VhdxHeader currentHeader() throws IOException {
        VhdxHeader one = VhdxHeader.parse(read(file, 64 * 1024, VhdxHeader.SIZE), 64 * 1024);
        VhdxHeader two = VhdxHeader.parse(read(file, 128 * 1024, VhdxHeader.SIZE), 128 * 1024);
        if (!one.valid() && !two.valid()) {
            throw new ImageException(name, "both headers are damaged (first: " + one.problem() + "; second: "
                    + two.problem() + ")");
        }
        if (!one.valid() || !two.valid()) {
            VhdxHeader bad = one.valid() ? two : one;
            context.warn(name + ": the header at " + bad.offset() / 1024 + " KiB is damaged (" + bad.problem()
                    + "); using the other one");
        }
        if (!two.valid()) {
            return one;
        }
        return !one.valid() || Long.compareUnsigned(two.sequence(), one.sequence()) > 0 ? two : one;
    }

    private RegionTable regionTable(Storage storage) throws IOException {
        RegionTable one = RegionTable.parse(read(storage, 192 * 1024, RegionTable.SIZE));
        if (one.valid()) {
            return one;
        }
        RegionTable two = RegionTable.parse(read(storage, 256 * 1024, RegionTable.SIZE));
        if (!two.valid()) {
            throw new ImageException(name, "both region tables are damaged (first: " + one.problem() + "; second: "
                    + two.problem() + ")");
        }
        context.warn(name + ": the region table at 192 KiB is damaged (" + one.problem() + "); using its copy");
        return two;
    }

    private RegionTable.Region need(RegionTable table, UUID guid, long fileSize) throws ImageException {
        RegionTable.Region r = table.find(guid);
        if (r == null) {
            throw new ImageException(name, "the region table has no " + (guid.equals(RegionTable.BAT) ? "BAT"
                    : "metadata") + " region");
        }
        if (r.offset() < MB || r.offset() % MB != 0 || r.length() == 0 || r.length() % MB != 0
                || r.offset() > fileSize - r.length()) {
            throw new ImageException(name, "the " + r.describe() + " region (" + r.length() + " bytes at offset "
                    + r.offset() + ") is misaligned or lies outside the " + fileSize + "-byte file");
        }
        return r;
    }

    private void check(Metadata m) throws ImageException {
        if (m.blockSize < MIN_BLOCK || m.blockSize > MAX_BLOCK || Long.bitCount(m.blockSize) != 1) {
            throw new ImageException(name, "block size " + m.blockSize + " is not a power of two from 1 MiB to 256 MiB");
        }
        if (m.logicalSectorSize != 512 && m.logicalSectorSize != 4096) {
            throw new ImageException(name, "logical sector size " + m.logicalSectorSize + " is neither 512 nor 4096");
        }
        if (m.physicalSectorSize != 512 && m.physicalSectorSize != 4096) {
            throw new ImageException(name, "physical sector size " + m.physicalSectorSize + " is neither 512 nor 4096");
        }
        if (m.virtualSize < 0 || m.virtualSize > MAX_SIZE || m.virtualSize % m.logicalSectorSize != 0) {
            throw new ImageException(name, "virtual disk size " + Long.toUnsignedString(m.virtualSize)
                    + " is not a multiple of the sector size up to 64 TiB");
        }
    }

    /**
     * The parent of a differencing disk, through the locator's relative_path, volume_path and
     * absolute_win32_path (each as written, then by file name next to the image); the right one's
     * DataWriteGuid is the parent_linkage this disk records (or parent_linkage2).
     */
    private VirtualDisk openParent(Metadata m, DiskInfo info) throws IOException {
        UUID linkage = Guids.parse(m.parentLocator.getOrDefault("parent_linkage", ""));
        UUID linkage2 = Guids.parse(m.parentLocator.getOrDefault("parent_linkage2", ""));
        if (linkage == null) {
            throw new ImageException(name, "is a differencing disk whose parent locator has no parent_linkage");
        }
        info.detail("parent-linkage", linkage.toString());
        List<String[]> candidates = new ArrayList<>();
        for (String key : List.of("relative_path", "volume_path", "absolute_win32_path")) {
            String value = m.parentLocator.get(key);
            if (value != null && !value.isEmpty()) {
                info.detail("parent-" + key.replace('_', '-'), Text.printable(value));
                candidates.add(new String[] {value, key});
            }
        }
        if (candidates.isEmpty()) {
            throw new ImageException(name, "is a differencing disk whose parent locator names no path");
        }
        RelatedFile parent = RelatedFile.of("parent disk", Text.printable(candidates.get(0)[0]));
        for (String[] c : candidates) {
            parent.written(c[0], c[1]);
        }
        parent.format("vhdx").identity(candidate -> {
            Object guid = candidate.info().details().get("data-write-guid");
            boolean matches = linkage.toString().equals(guid)
                    || linkage2 != null && !linkage2.equals(Guids.ZERO) && linkage2.toString().equals(guid);
            return matches ? null : "is not this disk's parent: its DataWriteGuid is " + guid
                    + ", the parent_linkage is " + linkage;
        });
        return context.open(file, parent);
    }

    private void describe(DiskInfo info, VhdxHeader header, Metadata m, String creator, long chunkRatio,
            long fileSize) {
        info.subformat(m.hasParent ? "differencing" : m.leaveBlocksAllocated ? "fixed" : "dynamic")
                .virtualSize(m.virtualSize)
                .fileSize(fileSize)
                .clusterSize((int) m.blockSize);
        info.detail("creator", Text.printable(creator));
        info.detail("block-size", m.blockSize);
        info.detail("logical-sector-size", m.logicalSectorSize);
        info.detail("physical-sector-size", m.physicalSectorSize);
        info.detail("chunk-ratio", chunkRatio);
        if (m.diskId != null) {
            info.detail("disk-id", m.diskId.toString());
        }
        info.detail("data-write-guid", header.dataWriteGuid().toString());
        info.detail("file-write-guid", header.fileWriteGuid().toString());
        info.detail("header-sequence", header.sequence());
    }

    private static long fileSize(Storage storage) throws IOException {
        return storage.size();
    }

    private static ByteBuffer read(Storage storage, long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        storage.readFully(b, at);
        return b.flip();
    }
}
