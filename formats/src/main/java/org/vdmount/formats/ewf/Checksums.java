package org.vdmount.formats.ewf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.Adler32;

/** EWF guards every structure with an Adler-32 stored little-endian after it. */
final class Checksums {
    private Checksums() {
    }

    static long adler32(byte[] b, int offset, int length) {
        Adler32 a = new Adler32();
        a.update(b, offset, length);
        return a.getValue();
    }

    /** Whether the {@code length} bytes at {@code offset} are followed by their Adler-32. */
    static boolean valid(byte[] b, int offset, int length) {
        long stored = Integer.toUnsignedLong(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(offset + length));
        return stored == adler32(b, offset, length);
    }
}
