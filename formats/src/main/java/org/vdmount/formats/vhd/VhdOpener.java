package org.vdmount.formats.vhd;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.Text;

/** Opens one VHD: finds a valid footer, reads the dynamic header, finds the parent, builds the info. */
final class VhdOpener {
    /** qemu's limit, and the format's: 2040 GiB. */
    static final long MAX_SECTORS = 0xff000000L;
    /** A locator's data is a path: a few hundred bytes. More is not a path. */
    private static final int MAX_LOCATOR_BYTES = 64 * 1024;
    /** The order locators are tried in: relative paths first, as they survive a copy of the directory. */
    private static final List<String> LOCATOR_ORDER = List.of("W2ru", "Wi2r", "MacX", "W2ku", "Wi2k");

    private final Storage storage;
    private final OpenContext context;
    private final String file;

    VhdOpener(Storage storage, OpenContext context) {
        this.storage = storage;
        this.context = context;
        this.file = storage.name();
    }

    VirtualDisk open() throws IOException {
        long fileSize = storage.size();
        if (fileSize < VhdFooter.SIZE) {
            throw new ImageException(file, "too short for a VHD (" + fileSize + " bytes; the footer alone is 512)");
        }
        VhdFooter footer = footer(fileSize);
        long size = footer.diskSize();
        if (size / 512 > MAX_SECTORS) {
            throw new ImageException(file, "disk size of " + size + " bytes is more than the 2040 GiB a VHD can hold");
        }
        DiskInfo info = new DiskInfo(file, "vhd").subformat(footer.typeName()).virtualSize(size).fileSize(fileSize);
        info.files().add(file);
        describe(info, footer);
        if (footer.type() == VhdFooter.FIXED) {
            if (size > fileSize - VhdFooter.SIZE) {
                throw new ImageException(file, "truncated: a fixed disk of " + size + " bytes needs a file of "
                        + (size + VhdFooter.SIZE) + " bytes, but the file is " + fileSize);
            }
            return new VhdDisk(storage, size, info);
        }
        if (footer.type() != VhdFooter.DYNAMIC && footer.type() != VhdFooter.DIFFERENCING) {
            throw new ImageException(file, "disk type " + Integer.toUnsignedString(footer.type())
                    + " is not one of fixed (2), dynamic (3) or differencing (4)");
        }
        DynamicHeader header = dynamicHeader(footer, fileSize);
        long metadataEnd = checkTable(header, size, fileSize, footer.dataOffset());
        info.clusterSize((int) Math.min(Integer.MAX_VALUE, header.blockSize()));
        info.detail("block-size", header.blockSize());
        info.detail("bat-entries", header.maxTableEntries());
        VirtualDisk parent = null;
        if (footer.type() == VhdFooter.DIFFERENCING) {
            parent = openParent(header, fileSize, info);
        }
        try {
            return new VhdDisk(storage, size, header, metadataEnd, parent, info);
        } catch (IOException | RuntimeException e) {
            if (parent != null) {
                parent.close();
            }
            throw e;
        }
    }

    /**
     * The footer: the copy at the start of a dynamic disk, else the one at the end. A copy whose
     * checksum is wrong is refused, as qemu refuses it, unless the other copy is sound.
     */
    private VhdFooter footer(long fileSize) throws IOException {
        ByteBuffer head = read(0, VhdFooter.SIZE);
        ByteBuffer tail = fileSize >= 2 * VhdFooter.SIZE ? read(fileSize - VhdFooter.SIZE, VhdFooter.SIZE) : null;
        VhdFooter first = VhdFooter.hasCookie(head) ? VhdFooter.parse(head) : null;
        VhdFooter last = tail != null && VhdFooter.hasCookie(tail) ? VhdFooter.parse(tail) : null;
        if (first != null && first.type() == VhdFooter.FIXED && last != null && last.type() == VhdFooter.FIXED) {
            first = null; // a fixed disk whose own first sector happens to hold a VHD footer
        }
        if (first == null && last == null) {
            throw new ImageException(file, "not a VHD: no \"conectix\" footer at the start or the end");
        }
        if (first == null && last.type() != VhdFooter.FIXED) {
            throw new ImageException(file, "the footer at the end says " + last.typeName()
                    + ", but a dynamic disk must start with a copy of it (the file is cut or damaged)");
        }
        VhdFooter chosen = first != null ? first : last;
        if (chosen.checksumValid()) {
            return chosen;
        }
        if (first != null && last != null && last.checksumValid() && last.type() == first.type()) {
            context.warn(file + ": the footer copy at the start has a wrong checksum; using the copy at the end");
            return last;
        }
        throw new ImageException(file, String.format("footer checksum is %08x, but its bytes sum to %08x: "
                + "the footer is damaged", chosen.checksum(), chosen.computedChecksum()));
    }

    private DynamicHeader dynamicHeader(VhdFooter footer, long fileSize) throws IOException {
        long at = footer.dataOffset();
        if (at < VhdFooter.SIZE || at > fileSize - VhdFooter.SIZE - DynamicHeader.SIZE) {
            throw new ImageException(file, "dynamic disk header at offset " + Long.toUnsignedString(at)
                    + " lies outside the " + fileSize + "-byte file");
        }
        ByteBuffer b = read(at, DynamicHeader.SIZE);
        if (!DynamicHeader.COOKIE.equals(VhdFooter.ascii(b, 0, 8))) {
            throw new ImageException(file, "no dynamic disk header (\"cxsparse\") at offset " + at);
        }
        DynamicHeader header = DynamicHeader.parse(b);
        if (!header.checksumValid()) {
            context.warn(String.format("%s: the dynamic disk header's checksum is %08x, but its bytes sum to %08x; "
                    + "reading on", file, header.checksum(), header.computedChecksum()));
        }
        return header;
    }

    /** Checks the block size and the BAT against the disk and the file; returns where the metadata ends. */
    private long checkTable(DynamicHeader header, long size, long fileSize, long headerAt) throws ImageException {
        long block = header.blockSize();
        if (block < 512 || Long.bitCount(block) != 1) {
            throw new ImageException(file, "block size " + block + " is not a power of two of at least 512 bytes");
        }
        long entries = header.maxTableEntries();
        long needed = (size + block - 1) / block;
        if (entries < needed) {
            throw new ImageException(file, "block allocation table has " + entries + " entries, too few for a disk of "
                    + size + " bytes in blocks of " + block + " (needs " + needed + ")");
        }
        long table = header.tableOffset();
        if (table < VhdFooter.SIZE || table > fileSize || entries * 4 > fileSize - table) {
            throw new ImageException(file, "block allocation table at offset " + Long.toUnsignedString(table) + " ("
                    + entries + " entries) lies outside the " + fileSize + "-byte file");
        }
        return Math.max(headerAt + DynamicHeader.SIZE, (table + entries * 4 + 511) & ~511L);
    }

    /**
     * The parent of a differencing disk: the paths its locators give (relative first), then its
     * name next to this file; the right one has the UUID this disk records for its parent.
     */
    private VirtualDisk openParent(DynamicHeader header, long fileSize, DiskInfo info) throws IOException {
        String wantedUuid = header.parentUuid().toString();
        info.detail("parent-uuid", wantedUuid);
        info.detail("parent-name", header.parentName());
        info.detail("parent-timestamp", header.parentTimestamp().toString());
        List<String[]> candidates = new ArrayList<>();
        for (String platform : LOCATOR_ORDER) {
            for (DynamicHeader.Locator l : header.locators()) {
                String path = l.platform().equals(platform) ? locatorPath(l, fileSize) : null;
                if (path != null && !path.isEmpty()) {
                    candidates.add(new String[] {path, platform + " locator"});
                }
            }
        }
        if (!candidates.isEmpty()) {
            info.detail("parent-locators", String.join(", ",
                    candidates.stream().map(c -> c[1].substring(0, 4) + " " + Text.printable(c[0])).toList()));
        }
        if (!header.parentName().isEmpty()) {
            candidates.add(new String[] {header.parentName(), "parent name"});
        }
        if (candidates.isEmpty()) {
            throw new ImageException(file, "is a differencing disk that names no parent (no locator, no parent name)");
        }
        RelatedFile parent = RelatedFile.of("parent disk", Text.printable(candidates.get(0)[0]));
        for (String[] c : candidates) {
            parent.written(c[0], c[1]);
        }
        parent.format("vhd").identity(candidate -> {
            Object uuid = candidate.info().details().get("uuid");
            return wantedUuid.equals(uuid) ? null
                    : "is not this disk's parent: its UUID is " + uuid + ", the parent's is " + wantedUuid;
        });
        return context.open(storage, parent);
    }

    /** The path a locator holds, or null when it cannot be read as one. */
    private String locatorPath(DynamicHeader.Locator l, long fileSize) throws IOException {
        long length = l.dataLength();
        if (length == 0 || length > MAX_LOCATOR_BYTES || l.dataOffset() < 0 || l.dataOffset() > fileSize - length) {
            context.warn(file + ": parent locator " + Text.printable(l.platform()) + " (" + length
                    + " bytes at offset " + l.dataOffset() + ") lies outside the file; ignored");
            return null;
        }
        byte[] bytes = new byte[(int) length];
        storage.readFully(ByteBuffer.wrap(bytes), l.dataOffset());
        String text = switch (l.platform()) {
            case "W2ru", "W2ku" -> new String(bytes, StandardCharsets.UTF_16LE);
            case "Wi2r", "Wi2k" -> looksUtf16(bytes) ? new String(bytes, StandardCharsets.UTF_16LE)
                    : new String(bytes, StandardCharsets.UTF_8);
            case "MacX" -> URLDecoder.decode(new String(bytes, StandardCharsets.UTF_8).replace("+", "%2B"),
                    StandardCharsets.UTF_8);
            default -> null;
        };
        if (text == null) {
            return null;
        }
        int nul = text.indexOf('\0');
        return nul >= 0 ? text.substring(0, nul) : text;
    }

    private static boolean looksUtf16(byte[] bytes) {
        return bytes.length >= 2 && bytes.length % 2 == 0 && bytes[1] == 0;
    }

    private void describe(DiskInfo info, VhdFooter footer) {
        info.detail("creator", footer.creator());
        info.detail("created", footer.created().toString());
        info.detail("uuid", footer.uuid().toString());
        info.detail("size-from", footer.sizedByGeometry() ? "CHS geometry (as Virtual PC and qemu read it)"
                : "current size field");
        info.detail("current-size", footer.currentSize());
        info.detail("geometry", footer.cylinders() + "/" + footer.heads() + "/" + footer.sectorsPerTrack());
        info.detail("saved-state", footer.savedState());
    }

    private ByteBuffer read(long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        storage.readFully(b, at);
        return b.flip();
    }
}
