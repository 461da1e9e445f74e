package org.vdmount.formats.compress;

/**
 * Decompresses one compressed block (a qcow2 cluster, a VMDK grain). Instances keep state and are
 * not thread safe: {@link CompressedBlocks} gives each reader thread its own.
 */
public interface Codec {

    /**
     * Decompresses from {@code in[0, inLength)} into {@code out[0, outLength)}. The input may end with
     * bytes that belong to the next block (qcow2 packs clusters into shared sectors); decoding stops
     * once the output is full. Returns the number of bytes produced, less than {@code outLength} if
     * the stream ends early ({@link #ended()} then says whether it ended properly) or is cut short.
     */
    int decompress(byte[] in, int inLength, byte[] out, int outLength) throws DamagedException;

    /** Whether the last {@link #decompress} reached the stream's own end marker. */
    boolean ended();

    /** The kinds of compressed data images use. */
    enum Kind {
        /** Raw deflate (RFC 1951), no header or checksum: qcow2 compression_type 0. */
        DEFLATE("deflate"),
        /** Deflate in a zlib wrapper (RFC 1950): VMDK streamOptimized grains. */
        ZLIB("deflate"),
        /** Zstandard frames (RFC 8878): qcow2 compression_type 1. */
        ZSTD("zstd"),
        /**
         * A zlib stream that must end where the block does, so that its Adler-32 trailer is always
         * checked: EWF chunks, whose checksum is the only proof the evidence is intact.
         */
        ZLIB_CHECKED("deflate"),
        /** Stored, not compressed, followed by the Adler-32 of the stored bytes (little-endian): EWF chunks. */
        STORED_ADLER32("none");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** Whether blocks of this kind are compressed (errors then speak of compressed blocks). */
        public boolean compresses() {
            return this != STORED_ADLER32;
        }

        /** What {@code vdmount info} calls it. */
        public String label() {
            return label;
        }

        Codec create() {
            return switch (this) {
                case DEFLATE -> new DeflateCodec(false);
                case ZLIB -> new DeflateCodec(true);
                case ZSTD -> new ZstdCodec();
                case ZLIB_CHECKED -> new DeflateCodec(true, true);
                case STORED_ADLER32 -> new StoredAdler32Codec();
            };
        }
    }

    /** Compressed data that cannot be decoded. */
    final class DamagedException extends Exception {
        public DamagedException(String message) {
            super(message);
        }
    }
}
