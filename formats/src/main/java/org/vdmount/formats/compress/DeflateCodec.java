package org.vdmount.formats.compress;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** Deflate, raw (qcow2, as qemu writes it) or zlib-wrapped (VMDK grains). */
final class DeflateCodec implements Codec {
    private final Inflater inflater;
    private boolean ended;

    DeflateCodec(boolean zlibWrapped) {
        this.inflater = new Inflater(!zlibWrapped);
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
