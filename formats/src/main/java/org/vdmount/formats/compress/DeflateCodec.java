package org.vdmount.formats.compress;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** Deflate, raw (qcow2, as qemu writes it) or zlib-wrapped (VMDK grains). */
final class DeflateCodec implements Codec {
    private final Inflater inflater;
    private final boolean mustEnd;
    private final byte[] probe = new byte[1];
    private boolean ended;

    DeflateCodec(boolean zlibWrapped) {
        this(zlibWrapped, false);
    }

    /**
     * @param mustEnd whether the stream must end within the block: zlib checks its Adler-32 trailer
     *                only when it reaches it, which a decoder that stops at a full block may not
     */
    DeflateCodec(boolean zlibWrapped, boolean mustEnd) {
        this.inflater = new Inflater(!zlibWrapped);
        this.mustEnd = mustEnd;
    }

    @Override
    public int decompress(byte[] in, int inLength, byte[] out, int outLength) throws DamagedException {
        inflater.reset();
        inflater.setInput(in, 0, inLength);
        int produced = 0;
        try {
            int idle = 0;
            while (produced < outLength) {
                int n = inflater.inflate(out, produced, outLength - produced);
                // No progress twice running means the stream can give no more: never spin.
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary()
                        || ++idle > 1)) {
                    break;
                }
                produced += n;
            }
            if (mustEnd && produced == outLength && !inflater.finished()) {
                // The block is full: what remains must be the stream's end and its checksum.
                if (inflater.inflate(probe) != 0 || !inflater.finished()) {
                    throw new DamagedException("deflate stream does not end where the block does");
                }
            }
            ended = inflater.finished();
        } catch (DataFormatException e) {
            throw new DamagedException("deflate data is damaged (" + e.getMessage() + ")");
        } finally {
            // Drop the input reference: the scratch buffer is reused by the next block.
            inflater.reset();
        }
        return produced;
    }

    @Override
    public boolean ended() {
        return ended;
    }
}
