package org.vdmount.formats.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/** GUIDs as Microsoft stores them: the first three fields little endian, the last eight bytes as they are. */
final class Guids {
    static final UUID ZERO = new UUID(0, 0);

    private Guids() {
    }

    static UUID read(ByteBuffer b, int at) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long d1 = Integer.toUnsignedLong(le.getInt(at));
        long d2 = Short.toUnsignedLong(le.getShort(at + 4));
        long d3 = Short.toUnsignedLong(le.getShort(at + 6));
        long high = d1 << 32 | d2 << 16 | d3;
        long low = b.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        return new UUID(high, low);
    }

    /** Parses "{xxxxxxxx-...}" as the parent locator writes it; null when it is not a GUID. */
    static UUID parse(String text) {
        String t = text.strip();
        if (t.startsWith("{") && t.endsWith("}")) {
            t = t.substring(1, t.length() - 1);
        }
        try {
            return t.length() == 36 ? UUID.fromString(t) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
