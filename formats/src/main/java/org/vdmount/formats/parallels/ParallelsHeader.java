package org.vdmount.formats.parallels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The 64-byte header of a Parallels expanding image (.hds, .hdd), little endian, followed by the
 * block allocation table of 32-bit entries. "WithoutFreeSpace" images count BAT entries in
 * sectors and their size in 32 bits; "WithouFreSpacExt" images count entries in clusters.
 *
 * @param tracks     sectors per cluster
 * @param batEntries entries in the BAT
 * @param sectors    virtual size in sectors
 * @param dataOffset where data starts, in sectors (0: right after the BAT)
 */
record ParallelsHeader(boolean extended, int version, long tracks, long batEntries, long sectors, boolean inUse,
        long dataOffset, long extensionOffset) {

    static final String MAGIC = "WithoutFreeSpace";
    static final String MAGIC_EXT = "WithouFreSpacExt";
    static final int VERSION = 2;
    static final int SIZE = 64;
    /** "Ynot": the image was not closed cleanly. */
    static final int IN_USE = 0x746f6e59;

    static boolean hasMagic(ByteBuffer head) {
        if (head.remaining() < 20) {
            return false;
        }
        String magic = magic(head.duplicate());
        return (magic.equals(MAGIC) || magic.equals(MAGIC_EXT))
                && head.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(head.position() + 16) == VERSION;
    }

    static ParallelsHeader parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        boolean extended = magic(b).equals(MAGIC_EXT);
        long sectors = b.getLong(36);
        return new ParallelsHeader(extended, b.getInt(16), Integer.toUnsignedLong(b.getInt(28)),
                Integer.toUnsignedLong(b.getInt(32)), extended ? sectors : sectors & 0xffffffffL,
                b.getInt(44) == IN_USE, Integer.toUnsignedLong(b.getInt(48)), b.getLong(56));
    }

    /** BAT entries count in these units of 512-byte sectors. */
    long entryUnit() {
        return extended ? tracks : 1;
    }

    private static String magic(ByteBuffer b) {
        byte[] bytes = new byte[16];
        b.get(b.position(), bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
