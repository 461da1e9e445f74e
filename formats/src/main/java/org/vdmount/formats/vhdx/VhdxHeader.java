package org.vdmount.formats.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * One of the two 4 KiB headers (at 64 KiB and 128 KiB): the current one is the valid one with the
 * higher sequence number. It says where the log is, and whether it must be replayed (a log GUID).
 */
record VhdxHeader(long offset, boolean valid, String problem, long sequence, UUID fileWriteGuid,
        UUID dataWriteGuid, UUID logGuid, int logVersion, int version, long logLength, long logOffset) {

    static final int SIZE = 4096;
    static final int SIGNATURE = 0x64616568; // "head"

    static VhdxHeader parse(ByteBuffer raw, long offset) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        String problem = null;
        if (b.getInt(0) != SIGNATURE) {
            problem = "no \"head\" signature";
        } else if (Checksums.crc32c(b, SIZE, 4) != Integer.toUnsignedLong(b.getInt(4))) {
            problem = "CRC-32C mismatch";
        } else if (Short.toUnsignedInt(b.getShort(66)) != 1) {
            problem = "version " + Short.toUnsignedInt(b.getShort(66)) + " (only 1 exists)";
        }
        return new VhdxHeader(offset, problem == null, problem, b.getLong(8), Guids.read(b, 16), Guids.read(b, 32),
                Guids.read(b, 48), Short.toUnsignedInt(b.getShort(64)), Short.toUnsignedInt(b.getShort(66)),
                Integer.toUnsignedLong(b.getInt(68)), b.getLong(72));
    }

    boolean hasLog() {
        return !logGuid.equals(Guids.ZERO);
    }
}
