package org.vdmount.formats.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.vdmount.formats.io.Text;

/**
 * The 1024-byte dynamic disk header of dynamic and differencing VHDs (big endian): where the block
 * allocation table is, the block size, and for a differencing disk its parent's UUID, time stamp,
 * name and the eight parent locators.
 */
record DynamicHeader(long tableOffset, long maxTableEntries, long blockSize, long checksum,
        long computedChecksum, UUID parentUuid, Instant parentTimestamp, String parentName,
        List<Locator> locators) {

    static final int SIZE = 1024;
    static final String COOKIE = "cxsparse";
    private static final int LOCATORS = 8;

    /**
     * One parent locator entry: a platform code ("W2ru", "W2ku", "Wi2r", "Wi2k", "Mac ", "MacX") and
     * where its data lies in the file.
     *
     * @param dataLength bytes of data (some writers give the space in bytes, others in sectors; the
     *                   length is what is read)
     */
    record Locator(String platform, long dataSpace, long dataLength, long dataOffset) {
    }

    static DynamicHeader parse(ByteBuffer b) {
        byte[] name = new byte[512];
        b.get(64, name);
        String parentName = new String(name, StandardCharsets.UTF_16BE);
        int nul = parentName.indexOf('\0');
        if (nul >= 0) {
            parentName = parentName.substring(0, nul);
        }
        List<Locator> locators = new ArrayList<>();
        for (int i = 0; i < LOCATORS; i++) {
            int at = 576 + 24 * i;
            String platform = VhdFooter.ascii(b, at, 4);
            if (b.getInt(at) != 0) {
                locators.add(new Locator(platform, Integer.toUnsignedLong(b.getInt(at + 4)),
                        Integer.toUnsignedLong(b.getInt(at + 8)), b.getLong(at + 16)));
            }
        }
        return new DynamicHeader(
                b.getLong(16),
                Integer.toUnsignedLong(b.getInt(28)),
                Integer.toUnsignedLong(b.getInt(32)),
                Integer.toUnsignedLong(b.getInt(36)),
                VhdFooter.checksum(b, 36),
                new UUID(b.getLong(40), b.getLong(48)),
                Instant.ofEpochSecond(VhdFooter.EPOCH + Integer.toUnsignedLong(b.getInt(56))),
                Text.printable(parentName),
                locators);
    }

    boolean checksumValid() {
        return checksum == computedChecksum;
    }

    /** Bytes of the sector bitmap in front of each block: a bit per sector, padded to whole sectors. */
    long bitmapBytes() {
        return (blockSize / 512 / 8 + 511) & ~511L;
    }
}
