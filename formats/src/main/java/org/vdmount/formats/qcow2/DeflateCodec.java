package org.vdmount.formats.qcow2;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** compression_type 0: raw deflate (no zlib header or checksum), as qemu writes it. */
final class DeflateCodec implements ClusterCodec {
    private final Inflater inflater = new Inflater(true);

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
        } catch (DataFormatException e) {
            throw new DamagedException("deflate data is damaged (" + e.getMessage() + ")");
        }
        return produced;
    }
}
