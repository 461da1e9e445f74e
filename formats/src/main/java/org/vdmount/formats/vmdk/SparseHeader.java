package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The 512-byte header of a hosted sparse extent ("KDMV", versions 1 to 3), or of its footer when a
 * streamOptimized file puts the grain directory at the end of the stream.
 */
record SparseHeader(int version, int flags, long capacity, long grainSize, long descriptorOffset,
        long descriptorSize, int numGTEsPerGT, long rgdOffset, long gdOffset, long overhead,
        int compressAlgorithm, boolean fromFooter) {

    static final int MAGIC = 0x564d444b; // "KDMV" little-endian
    static final int FLAG_NEWLINE_TEST = 1;
    static final int FLAG_REDUNDANT_GD = 1 << 1;
    static final int FLAG_ZEROED_GRAIN = 1 << 2;
    static final int FLAG_COMPRESSED = 1 << 16;
    static final int FLAG_MARKERS = 1 << 17;
    static final long GD_AT_END = -1L;
    static final int COMPRESSION_DEFLATE = 1;
    private static final byte[] NEWLINE_TEST = {'\n', ' ', '\r', '\n'};
    /** 1 MiB grains; VMware uses 64 KiB. */
    static final long MAX_GRAIN_SECTORS = 2048;
    static final int MAX_GTES_PER_GT = 1 << 16;

    boolean compressed() {
        return (flags & FLAG_COMPRESSED) != 0;
    }

    boolean markers() {
        return (flags & FLAG_MARKERS) != 0;
    }

    boolean zeroedGrains() {
        return (flags & FLAG_ZEROED_GRAIN) != 0;
    }

    boolean hasDescriptor() {
        return descriptorOffset > 0 && descriptorSize > 0;
    }

    /**
     * Reads and checks the header, and the footer when the header says so. A stream with markers
     * whose footer is missing (a download cut short) comes back with {@link #GD_AT_END} still set:
     * its grains can only be found by walking the stream ({@link ScannedStreamExtent}).
     */
    static SparseHeader read(Storage storage) throws IOException {
        long size = storage.size();
        if (size < 512) {
            throw new ImageException(storage.name(), "too short for a VMDK sparse extent: " + size
                    + " bytes, the header alone is 512");
        }
        SparseHeader header = parse(read512(storage, 0), storage.name(), false);
        if (header.gdOffset == GD_AT_END) {
            boolean walkable = header.compressed() && header.markers();
            if (walkable && (size < 1536 || read512(storage, size - 1024).getInt(0) != MAGIC)) {
                return header;
            }
            if (size < 1536) {
                throw new ImageException(storage.name(), "grain directory is at the end of the stream, but the file ("
                        + size + " bytes) is too short to hold the footer");
            }
            ByteBuffer footer = read512(storage, size - 1024);
            if (footer.getInt(0) != MAGIC) {
                throw new ImageException(storage.name(), "streamOptimized footer missing at offset " + (size - 1024)
                        + " (the file is truncated or was not fully written)");
            }
            header = parse(footer, storage.name(), true);
            if (header.gdOffset == GD_AT_END) {
                throw new ImageException(storage.name(), "the footer, too, says the grain directory is at the end");
            }
        }
        return header;
    }

    private static ByteBuffer read512(Storage storage, long at) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        storage.readFully(buf, at);
        return buf.flip();
    }

    /**
     * The four bytes "\n \r\n" at offset 73 let a reader detect a file damaged by a text-mode
     * copy. Checked after the fields that say more: a fuzzed or zeroed header is then reported for
     * its impossible values, and a text-mode copy is named only when the bytes show its marks.
     */
    private static void checkNewlineBytes(ByteBuffer b, int flags, String file, String where) throws ImageException {
        byte[] found = new byte[4];
        b.get(73, found);
        if ((flags & FLAG_NEWLINE_TEST) == 0 || Arrays.equals(found, NEWLINE_TEST)) {
            return;
        }
        String hex = String.format("%02x %02x %02x %02x", found[0], found[1], found[2], found[3]);
        // A text-mode copy turns "\n" into "\r\n" (to Windows) or "\r\n" into "\n" (from it).
        boolean textMode = found[0] == '\r' && found[1] == '\n' || found[0] == '\n' && found[1] == ' '
                && found[2] == '\n';
        throw new ImageException(file, where + "the newline-detection bytes at offset 73 are " + hex
                + " instead of 0a 20 0d 0a: the header is damaged" + (textMode
                ? ", as by a copy in text mode (FTP ASCII), which corrupts every binary file" : ""));
    }

    private static SparseHeader parse(ByteBuffer b, String file, boolean footer) throws ImageException {
        String where = footer ? "footer: " : "";
        if (b.getInt(0) != MAGIC) {
            throw new ImageException(file, where + "not a VMDK sparse extent (no KDMV magic)");
        }
        int version = b.getInt(4);
        int flags = b.getInt(8);
        long capacity = b.getLong(12);
        long grainSize = b.getLong(20);
        long descriptorOffset = b.getLong(28);
        long descriptorSize = b.getLong(36);
        int gtes = b.getInt(44);
        long rgd = b.getLong(48);
        long gd = b.getLong(56);
        long overhead = b.getLong(64);
        int algorithm = b.getShort(77) & 0xffff;
        if (version < 1 || version > 3) {
            throw new ImageException(file, where + "sparse extent version " + Integer.toUnsignedString(version)
                    + " is not supported (1 to 3 are)");
        }
        if (grainSize < 1 || grainSize > MAX_GRAIN_SECTORS) {
            throw new ImageException(file, where + "grain size of " + Long.toUnsignedString(grainSize)
                    + " sectors is out of range (1 to " + MAX_GRAIN_SECTORS + ")");
        }
        if (gtes < 1 || gtes > MAX_GTES_PER_GT) {
            throw new ImageException(file, where + "numGTEsPerGT of " + Integer.toUnsignedString(gtes)
                    + " is out of range (1 to " + MAX_GTES_PER_GT + "; VMware uses 512)");
        }
        if (capacity < 0 || capacity > Descriptor.MAX_SECTORS) {
            throw new ImageException(file, where + "capacity of " + Long.toUnsignedString(capacity)
                    + " sectors is out of range");
        }
        if (descriptorOffset < 0 || descriptorSize < 0 || descriptorSize > Descriptor.MAX_BYTES / 512) {
            throw new ImageException(file, where + "embedded descriptor of " + Long.toUnsignedString(descriptorSize)
                    + " sectors is out of range (at most " + Descriptor.MAX_BYTES / 512 + ")");
        }
        if ((flags & FLAG_COMPRESSED) != 0 && algorithm != COMPRESSION_DEFLATE) {
            throw new ImageException(file, where + "compression algorithm " + algorithm + " is not supported");
        }
        checkNewlineBytes(b, flags, file, where);
        return new SparseHeader(version, flags, capacity, grainSize, descriptorOffset, descriptorSize, gtes,
                rgd, gd, overhead, algorithm, footer);
    }
}
