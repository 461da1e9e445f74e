package org.vdmount.formats.vhdx;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C as VHDX computes it: over a structure whose own checksum field reads as zero. */
final class Checksums {
    private Checksums() {
    }

    static long crc32c(ByteBuffer b, int length, int checksumAt) {
        CRC32C crc = new CRC32C();
        ByteBuffer whole = b.duplicate().clear().limit(length);
        ByteBuffer before = whole.duplicate().limit(checksumAt);
        crc.update(before);
        crc.update(new byte[4]);
        crc.update(whole.position(checksumAt + 4));
        return crc.getValue();
    }
}
