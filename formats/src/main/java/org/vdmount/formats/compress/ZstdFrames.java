package org.vdmount.formats.compress;

/**
 * Decodes one whole zstd frame. Two implementations: the system's libzstd ({@link NativeZstdFrames})
 * where it loads, and aircompressor's pure-Java decoder ({@link JavaZstdFrames}) everywhere else.
 * They must agree byte for byte and in what they refuse; {@code CodecTest} runs both.
 */
interface ZstdFrames {
    /**
     * Decodes the frame at {@code in[at, at + length)} into {@code out[outAt, outAt + capacity)};
     * returns the bytes produced.
     */
    int decode(byte[] in, int at, int length, byte[] out, int outAt, int capacity) throws Codec.DamagedException;

    /**
     * libzstd when it loads and {@code -Dvdmount.zstd=java} does not ask otherwise: it decodes some
     * 4x faster than the pure-Java decoder (768 MiB of zstd qcow2: 1.7 s of CPU for qemu-img, which
     * uses it, 5.5-7 s for aircompressor 0.27).
     */
    static ZstdFrames create() {
        if (!"java".equals(System.getProperty("vdmount.zstd")) && NativeZstdFrames.available()) {
            return new NativeZstdFrames();
        }
        return new JavaZstdFrames();
    }
}
