package org.vdmount.formats.qcow2;

/**
 * Decompresses one qcow2 compressed cluster. Instances are not thread safe: each reader thread has
 * its own (see {@link CompressedClusters}).
 */
interface ClusterCodec {

    /**
     * Decompresses from {@code in[0, inLength)} into {@code out[0, outLength)}. The input may end with
     * bytes of the next compressed cluster (they share sectors); decoding stops once the output is
     * full. Returns the number of bytes produced, less than {@code outLength} if the data is damaged.
     */
    int decompress(byte[] in, int inLength, byte[] out, int outLength) throws DamagedException;

    /** Compressed data that cannot be decoded. */
    final class DamagedException extends Exception {
        DamagedException(String message) {
            super(message);
        }
    }
}
