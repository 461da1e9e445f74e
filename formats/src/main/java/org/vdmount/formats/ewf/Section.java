package org.vdmount.formats.ewf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.Text;

/**
 * One section descriptor of an EWF version 1 segment file (libyal's EWF document, "Section
 * header"): 16 bytes of type, the offset of the next section, the section's size, padding, and an
 * Adler-32 of the 72 bytes before it.
 *
 * @param type   "header", "volume", "sectors", "table"...
 * @param offset where the descriptor starts in its segment file
 * @param next   where the next descriptor starts (its own offset for "done" and "next")
 * @param size   the section's size with its descriptor (0 in EnCase's "done" and "next")
 */
record Section(String type, long offset, long next, long size) {
    static final int DESCRIPTOR_BYTES = 76;

    /** Where the section's own data starts. */
    long dataOffset() {
        return offset + DESCRIPTOR_BYTES;
    }

    /** Bytes of data after the descriptor, as the size field says (0 when it says nothing). */
    long dataSize() {
        return Math.max(0, size - DESCRIPTOR_BYTES);
    }

    static Section read(Storage storage, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(DESCRIPTOR_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        storage.readFully(b, offset);
        long stored = Integer.toUnsignedLong(b.getInt(72));
        long computed = Checksums.adler32(b.array(), 0, 72);
        String type = typeOf(b.array());
        if (stored != computed) {
            throw new ImageException(storage.name(), "section descriptor at offset " + offset + " ('" + type
                    + "') is damaged: Adler-32 checksum mismatch");
        }
        return new Section(type, offset, b.getLong(16), b.getLong(24));
    }

    private static String typeOf(byte[] b) {
        int end = 0;
        while (end < 16 && b[end] != 0) {
            end++;
        }
        return Text.printable(new String(b, 0, end, StandardCharsets.US_ASCII));
    }
}
