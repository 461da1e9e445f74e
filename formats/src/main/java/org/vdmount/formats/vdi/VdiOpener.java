package org.vdmount.formats.vdi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/** Opens one VDI: checks the header and block map, finds a differencing image's parent, builds the info. */
final class VdiOpener {
    static final long MIN_BLOCK = 512;
    static final long MAX_BLOCK = 256L << 20;
    /** Directory entries looked at when searching a parent: a VM folder holds a few dozen. */
    private static final int MAX_SIBLINGS = 4096;

    private final Storage storage;
    private final OpenContext context;
    private final String file;

    VdiOpener(Storage storage, OpenContext context) {
        this.storage = storage;
        this.context = context;
        this.file = storage.name();
    }

    VirtualDisk open() throws IOException {
        long fileSize = storage.size();
        if (fileSize < 512) {
            throw new ImageException(file, "too short for a VDI (" + fileSize + " bytes; the header takes 512)");
        }
        ByteBuffer raw = ByteBuffer.allocate(512);
        storage.readFully(raw, 0);
        if (raw.order(ByteOrder.LITTLE_ENDIAN).getInt(64) != VdiHeader.SIGNATURE) {
            throw new ImageException(file, "not a VDI image (no signature at offset 64)");
        }
        VdiHeader h = VdiHeader.parse(raw);
        long size = check(h, fileSize);
        DiskInfo info = new DiskInfo(file, "vdi").subformat(h.typeName()).virtualSize(size).fileSize(fileSize)
                .clusterSize((int) h.blockSize());
        info.files().add(file);
        describe(info, h);
        VirtualDisk parent = h.type() == VdiHeader.DIFFERENCING ? openParent(h, info) : null;
        try {
            return new VdiDisk(storage, size, h, parent, info);
        } catch (IOException | RuntimeException e) {
            if (parent != null) {
                parent.close();
            }
            throw e;
        }
    }

    /** Checks the header against itself and the file; returns the disk size (a whole number of sectors). */
    private long check(VdiHeader h, long fileSize) throws ImageException {
        if (h.major() > 1) {
            throw new ImageException(file, "VDI version " + h.major() + "." + h.minor() + " is not supported");
        }
        if (h.type() == VdiHeader.UNDO) {
            throw new ImageException(file, "is a VDI undo image: not supported");
        }
        if (h.type() != VdiHeader.DYNAMIC && h.type() != VdiHeader.STATIC && h.type() != VdiHeader.DIFFERENCING) {
            throw new ImageException(file, "image type " + Integer.toUnsignedString(h.type())
                    + " is not one of dynamic (1), static (2) or differencing (4)");
        }
        if (h.sectorSize() != 512 && !(h.major() == 0 && h.sectorSize() == 0)) {
            throw new ImageException(file, "sector size " + h.sectorSize() + " is not 512");
        }
        long block = h.blockSize();
        if (block < MIN_BLOCK || block > MAX_BLOCK || Long.bitCount(block) != 1) {
            throw new ImageException(file, "block size " + block + " is not a power of two from 512 bytes to 256 MiB");
        }
        if (h.blockExtra() > MAX_BLOCK) {
            throw new ImageException(file, "block prefix of " + h.blockExtra() + " bytes is out of range");
        }
        long mapEnd = h.blockMapAt() + 4 * h.blocks();
        if (h.blockMapAt() < 72 || mapEnd > fileSize) {
            throw new ImageException(file, "block map at offset " + h.blockMapAt() + " (" + h.blocks()
                    + " entries) lies outside the " + fileSize + "-byte file");
        }
        if (h.dataAt() < mapEnd || h.dataAt() > fileSize) {
            throw new ImageException(file, "data area at offset " + h.dataAt() + " overlaps the block map (which ends "
                    + "at " + mapEnd + ") or lies past the end of the " + fileSize + "-byte file");
        }
        // Odd sizes (VBoxManage convertfromraw makes them) count as whole sectors, as qemu reads them.
        long size = h.diskSize() < 0 ? -1 : (h.diskSize() + 511) & ~511L;
        if (size < 0 || size > h.blocks() * block) {
            throw new ImageException(file, "disk size " + Long.toUnsignedString(h.diskSize()) + " needs more than the "
                    + h.blocks() + " blocks of " + block + " bytes the block map has");
        }
        return size;
    }

    /**
     * The parent of a differencing image: VDI names no file, only the parent's UUID. VirtualBox
     * keeps a VM's snapshot images in its Snapshots folder, the base one level up: the .vdi files
     * of this directory and the one above are looked at, and the one with that UUID is the parent.
     */
    private VirtualDisk openParent(VdiHeader h, DiskInfo info) throws IOException {
        UUID wanted = h.parent();
        if (wanted.equals(VdiHeader.NONE)) {
            throw new ImageException(file, "is a differencing image that records no parent UUID");
        }
        RelatedFile parent = RelatedFile.of("parent disk", "{" + wanted + "}");
        Path self = storage.path().map(p -> p.toAbsolutePath().normalize()).orElse(null);
        Path dir = self == null ? null : self.getParent();
        for (Path d : dir == null ? List.<Path>of() : dir.getParent() == null ? List.of(dir)
                : List.of(dir, dir.getParent())) {
            String where = d.equals(dir) ? "same directory" : "directory above";
            for (Path candidate : vdiFiles(d)) {
                if (!candidate.equals(self)) {
                    parent.exact(candidate.toString(), where);
                }
            }
        }
        parent.format("vdi")
                .peek(candidate -> wanted.equals(headerUuid(candidate)))
                .identity(candidate -> wanted.toString().equals(candidate.info().details().get("uuid")) ? null
                        : "is not this image's parent: its UUID is " + candidate.info().details().get("uuid"))
                .wantedBy("the only trace of the parent in a VDI is its UUID; put the parent's .vdi beside this image");
        VirtualDisk opened = context.open(storage, parent);
        Object modification = opened.info().details().get("modification-uuid");
        if (!h.parentModification().equals(VdiHeader.NONE) && !h.parentModification().toString().equals(modification)) {
            context.warn(file + ": its parent " + opened.info().name() + " was modified after this image was made "
                    + "(modification UUID " + modification + ", expected " + h.parentModification() + "); reading on");
        }
        return opened;
    }

    private static List<Path> vdiFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".vdi"))) {
            for (Path p : entries) {
                if (out.size() >= MAX_SIBLINGS) {
                    break;
                }
                out.add(p.toAbsolutePath().normalize());
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(null);
        return out;
    }

    /** The UUID in a file's VDI header, or null: a glance before opening it. */
    private static UUID headerUuid(Path candidate) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(512);
        try (FileChannel ch = FileChannel.open(candidate)) {
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read on
            }
        }
        if (b.position() < 512 || b.order(ByteOrder.LITTLE_ENDIAN).getInt(64) != VdiHeader.SIGNATURE) {
            return null;
        }
        return VdiHeader.parse(b).uuid();
    }

    private static void describe(DiskInfo info, VdiHeader h) {
        info.detail("creator", h.text());
        info.detail("header-version", h.major() + "." + h.minor());
        if (!h.comment().isEmpty()) {
            info.detail("comment", h.comment());
        }
        info.detail("block-size", h.blockSize());
        info.detail("blocks", h.blocks());
        info.detail("blocks-allocated", h.blocksAllocated());
        info.detail("uuid", h.uuid().toString());
        info.detail("modification-uuid", h.modification().toString());
        if (h.type() == VdiHeader.DIFFERENCING) {
            info.detail("parent-uuid", h.parent().toString());
        }
    }
}
