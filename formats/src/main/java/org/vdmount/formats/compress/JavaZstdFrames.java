package org.vdmount.formats.compress;

import io.airlift.compress.MalformedInputException;
import io.airlift.compress.zstd.ZstdDecompressor;

/** zstd frames through aircompressor's pure-Java decoder: runs wherever Java does. */
final class JavaZstdFrames implements ZstdFrames {
    private final ZstdDecompressor decoder = new ZstdDecompressor();

    @Override
    public int decode(byte[] in, int at, int length, byte[] out, int outAt, int capacity) throws Codec.DamagedException {
        try {
            return decoder.decompress(in, at, length, out, outAt, capacity);
        } catch (MalformedInputException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new Codec.DamagedException("zstd data is damaged (" + e.getMessage() + ")");
        }
    }
}
