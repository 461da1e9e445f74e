package org.vdmount.formats.compress;

import java.util.zip.Adler32;

/**
 * Blocks stored as they are, each followed by the Adler-32 of its bytes (little-endian), as EWF
 * stores chunks that do not compress. Checking the sum is what makes a stored chunk evidence.
 */
final class StoredAdler32Codec implements Codec {
    private final Adler32 adler = new Adler32();

    @Override
    public int decompress(byte[] in, int inLength, byte[] out, int outLength) throws DamagedException {
        int length = inLength - 4;
        if (length < 0 || length > outLength) {
            throw new DamagedException("a stored block of " + inLength + " bytes cannot hold "
                    + outLength + " bytes and a checksum");
        }
        adler.reset();
        adler.update(in, 0, length);
        long stored = (in[length] & 0xffL) | (in[length + 1] & 0xffL) << 8 | (in[length + 2] & 0xffL) << 16
                | (in[length + 3] & 0xffL) << 24;
        if (adler.getValue() != stored) {
            throw new DamagedException(String.format("Adler-32 checksum mismatch (stored %08x, computed %08x)",
                    stored, adler.getValue()));
        }
        System.arraycopy(in, 0, out, 0, length);
        return length;
    }

    @Override
    public boolean ended() {
        return true;
    }
}
