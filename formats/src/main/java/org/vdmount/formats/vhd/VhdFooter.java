package org.vdmount.formats.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.vdmount.formats.io.Text;

/**
 * The 512-byte hard disk footer every VHD ends with (and a dynamic VHD also starts with), big
 * endian, as the Virtual Hard Disk Image Format Specification lays it out.
 *
 * @param type        {@link #FIXED}, {@link #DYNAMIC} or {@link #DIFFERENCING}
 * @param dataOffset  where the dynamic disk header is (dynamic and differencing disks)
 * @param creatorApp  the application that made the disk: "vpc ", "win ", "d2v ", "qemu", "qem2"...
 * @param currentSize the disk's size in bytes, as Hyper-V and Disk2VHD read it
 * @param cylinders   CHS geometry, as Virtual PC sizes the disk by it
 */
record VhdFooter(int type, long dataOffset, Instant created, String creatorApp, int creatorVersion,
        String creatorOs, long originalSize, long currentSize, int cylinders, int heads, int sectorsPerTrack,
        long checksum, long computedChecksum, UUID uuid, boolean savedState) {

    static final int SIZE = 512;
    static final int FIXED = 2;
    static final int DYNAMIC = 3;
    static final int DIFFERENCING = 4;
    static final String COOKIE = "conectix";
    /** VHD timestamps count seconds from 2000-01-01 00:00:00 UTC. */
    static final long EPOCH = 946_684_800L;
    /** The largest geometry the specification allows: a disk that says it has been truncated by it. */
    static final long MAX_GEOMETRY_SECTORS = 65535L * 16 * 255;

    static boolean hasCookie(ByteBuffer b) {
        return b.remaining() >= 8 && COOKIE.equals(ascii(b, 0, 8));
    }

    /** Parses a footer; the cookie must already be checked. */
    static VhdFooter parse(ByteBuffer b) {
        long stored = Integer.toUnsignedLong(b.getInt(64));
        return new VhdFooter(
                b.getInt(60),
                b.getLong(16),
                Instant.ofEpochSecond(EPOCH + Integer.toUnsignedLong(b.getInt(24))),
                ascii(b, 28, 4),
                b.getInt(32),
                ascii(b, 36, 4),
                b.getLong(40),
                b.getLong(48),
                Short.toUnsignedInt(b.getShort(56)),
                Byte.toUnsignedInt(b.get(58)),
                Byte.toUnsignedInt(b.get(59)),
                stored,
                checksum(b, 64),
                new UUID(b.getLong(68), b.getLong(76)),
                b.get(84) != 0);
    }

    /** The one's complement of the sum of the bytes, the checksum field (4 bytes at {@code at}) left out. */
    static long checksum(ByteBuffer b, int at) {
        long sum = 0;
        for (int i = 0; i < b.limit(); i++) {
            if (i < at || i >= at + 4) {
                sum += Byte.toUnsignedInt(b.get(i));
            }
        }
        return ~sum & 0xffffffffL;
    }

    boolean checksumValid() {
        return checksum == computedChecksum;
    }

    long geometrySectors() {
        return (long) cylinders * heads * sectorsPerTrack;
    }

    /**
     * Whether the disk's size is its CHS geometry rather than its current-size field. Virtual PC
     * ("vpc ") and qemu before 2.6 ("qemu") size a disk by its geometry, which rounds it down;
     * everyone else (Hyper-V "win ", Disk2VHD "d2v ", qemu since 2.6 "qem2", XenServer, Azure,
     * FreeBSD's mkimg...) by the current size. A geometry at the specification's maximum means the
     * current size, whatever the creator. This is qemu's rule since 10.0 (block/vpc.c,
     * vpc_ignore_current_size); qemu before it sized unknown creators by their geometry too, which
     * cuts the end (and a GPT's backup header) off their disks.
     */
    boolean sizedByGeometry() {
        boolean geometryCreator = creatorApp.equals("vpc ") || creatorApp.equals("qemu");
        return geometryCreator && geometrySectors() != MAX_GEOMETRY_SECTORS;
    }

    /** The disk's size in bytes, by {@link #sizedByGeometry}. */
    long diskSize() {
        return sizedByGeometry() ? geometrySectors() * 512 : currentSize / 512 * 512;
    }

    String typeName() {
        return switch (type) {
            case FIXED -> "fixed";
            case DYNAMIC -> "dynamic";
            case DIFFERENCING -> "differencing";
            default -> "type " + Integer.toUnsignedString(type);
        };
    }

    /** "win 6.2 (Wi2k)", for info. */
    String creator() {
        return Text.printable(creatorApp.strip()) + " " + (creatorVersion >>> 16) + "." + (creatorVersion & 0xffff)
                + " (" + Text.printable(creatorOs.strip()) + ")";
    }

    static String ascii(ByteBuffer b, int at, int length) {
        byte[] bytes = new byte[length];
        b.get(at, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
