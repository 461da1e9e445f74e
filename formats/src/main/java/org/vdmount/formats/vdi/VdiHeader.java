package org.vdmount.formats.vdi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.vdmount.formats.io.Text;

/**
 * The VDI header, little endian, after the 64-byte text line and the signature: version 1.1 (what
 * VirtualBox and qemu write: explicit block map and data offsets) or version 0 (VirtualBox's
 * first, whose block map follows the header and the data the map).
 *
 * @param type         {@link #DYNAMIC}, {@link #STATIC}, {@link #UNDO} or {@link #DIFFERENCING}
 * @param blockMapAt   where the block map is, bytes
 * @param dataAt       where block 0 of the data is, bytes
 * @param diskSize     virtual size in bytes, as written
 * @param blockExtra   bytes in front of each block's data (0 in practice)
 * @param uuid         the image's own UUID (uuidCreate)
 * @param modification changes on every modification (uuidModify)
 * @param parent       a differencing image's parent's own UUID (uuidLinkage)
 * @param parentModification the parent's uuidModify when the child was made (version 1 only)
 */
record VdiHeader(String text, int major, int minor, int type, String comment, long blockMapAt, long dataAt,
        long sectorSize, long diskSize, long blockSize, long blockExtra, long blocks, long blocksAllocated,
        UUID uuid, UUID modification, UUID parent, UUID parentModification) {

    static final int SIGNATURE = 0xbeda107f;
    static final int DYNAMIC = 1;
    static final int STATIC = 2;
    static final int UNDO = 3;
    static final int DIFFERENCING = 4;
    /** What version 0's header and its text take: 72 bytes of pre-header, 348 of header. */
    static final int V0_END = 72 + 348;
    static final UUID NONE = new UUID(0, 0);

    static VdiHeader parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        String text = cString(b, 0, 64);
        int version = b.getInt(68);
        int major = version >>> 16;
        int minor = version & 0xffff;
        if (major == 0) {
            long blocks = Integer.toUnsignedLong(b.getInt(364));
            return new VdiHeader(text, major, minor, b.getInt(72), cString(b, 80, 256), V0_END, V0_END + 4 * blocks,
                    Integer.toUnsignedLong(b.getInt(348)), b.getLong(352), Integer.toUnsignedLong(b.getInt(360)), 0,
                    blocks, Integer.toUnsignedLong(b.getInt(368)), uuid(b, 372), uuid(b, 388), uuid(b, 404), NONE);
        }
        return new VdiHeader(text, major, minor, b.getInt(76), cString(b, 84, 256),
                Integer.toUnsignedLong(b.getInt(340)), Integer.toUnsignedLong(b.getInt(344)),
                Integer.toUnsignedLong(b.getInt(360)), b.getLong(368), Integer.toUnsignedLong(b.getInt(376)),
                Integer.toUnsignedLong(b.getInt(380)), Integer.toUnsignedLong(b.getInt(384)),
                Integer.toUnsignedLong(b.getInt(388)), uuid(b, 392), uuid(b, 408), uuid(b, 424), uuid(b, 440));
    }

    /** VirtualBox stores UUIDs as Windows does: the first three fields little endian. */
    static UUID uuid(ByteBuffer b, int at) {
        long d1 = Integer.toUnsignedLong(b.getInt(at));
        long d2 = Short.toUnsignedLong(b.getShort(at + 4));
        long d3 = Short.toUnsignedLong(b.getShort(at + 6));
        long low = b.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        return new UUID(d1 << 32 | d2 << 16 | d3, low);
    }

    String typeName() {
        return switch (type) {
            case DYNAMIC -> "dynamic";
            case STATIC -> "static";
            case UNDO -> "undo";
            case DIFFERENCING -> "differencing";
            default -> "type " + Integer.toUnsignedString(type);
        };
    }

    private static String cString(ByteBuffer b, int at, int length) {
        byte[] bytes = new byte[length];
        b.get(at, bytes);
        int end = 0;
        while (end < length && bytes[end] != 0) {
            end++;
        }
        return Text.printable(new String(bytes, 0, end, StandardCharsets.UTF_8).strip());
    }
}
