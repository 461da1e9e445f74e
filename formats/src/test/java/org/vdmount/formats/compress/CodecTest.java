package org.vdmount.formats.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.airlift.compress.zstd.ZstdCompressor;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.vdmount.formats.testing.TestImages;

/**
 * The codecs on what qemu may legally store: data followed by the start of the next cluster's data
 * in the same sector, and (zstd) a cluster split over several frames with a skippable frame between.
 */
class CodecTest {
    private static final int CLUSTER = 65536;

    private static byte[] cluster() {
        byte[] data = new byte[CLUSTER];
        byte[] noise = TestImages.pattern(CLUSTER / 4, 7);
        System.arraycopy(noise, 0, data, 1000, noise.length);
        return data;
    }

    private static byte[] zstd(byte[] data, int from, int to) {
        ZstdCompressor c = new ZstdCompressor();
        byte[] out = new byte[c.maxCompressedLength(to - from)];
        int n = c.compress(data, from, to - from, out, 0, out.length);
        return Arrays.copyOf(out, n);
    }

    @Test
    void zstdReadsSeveralFramesAndIgnoresTheNextClustersBytes() throws Exception {
        byte[] data = cluster();
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(zstd(data, 0, 20_000));
        in.writeBytes(new byte[] {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9}); // skippable frame
        in.writeBytes(zstd(data, 20_000, CLUSTER));
        in.writeBytes(Arrays.copyOf(zstd(data, 0, 5000), 7)); // start of another cluster's frame
        byte[] input = in.toByteArray();
        byte[] out = new byte[CLUSTER];
        assertEquals(CLUSTER, new ZstdCodec().decompress(input, input.length, out, CLUSTER));
        assertArrayEquals(data, out);
    }

    @Test
    void zstdRefusesGarbageAndTruncation() {
        byte[] garbage = TestImages.pattern(500, 3);
        assertThrows(Codec.DamagedException.class,
                () -> new ZstdCodec().decompress(garbage, garbage.length, new byte[CLUSTER], CLUSTER));
        byte[] frame = zstd(cluster(), 0, CLUSTER);
        assertThrows(Codec.DamagedException.class,
                () -> new ZstdCodec().decompress(frame, frame.length / 2, new byte[CLUSTER], CLUSTER));
    }

    @Test
    void deflateStopsAtAFullClusterAndReportsShortOutput() throws Exception {
        byte[] data = cluster();
        Deflater deflater = new Deflater(6, true);
        deflater.setInput(data);
        deflater.finish();
        byte[] buf = new byte[2 * CLUSTER];
        int n = deflater.deflate(buf);
        Arrays.fill(buf, n, n + 300, (byte) 0x5a); // what follows in the sector
        byte[] out = new byte[CLUSTER];
        DeflateCodec codec = new DeflateCodec(false);
        assertEquals(CLUSTER, codec.decompress(buf, n + 300, out, CLUSTER));
        assertArrayEquals(data, out);
        // The same decoder is reused: a truncated stream gives short output, not an old cluster.
        assertEquals(true, codec.decompress(buf, n / 2, out, CLUSTER) < CLUSTER);
        assertFalse(codec.ended(), "a cut stream has not ended");
    }

    @Test
    void zlibStreamsEndingEarlySayTheyEnded() throws Exception {
        byte[] data = TestImages.pattern(1000, 5);
        Deflater deflater = new Deflater(6, false);
        deflater.setInput(data);
        deflater.finish();
        byte[] buf = new byte[4096];
        int n = deflater.deflate(buf);
        Codec codec = Codec.Kind.ZLIB.create();
        byte[] out = new byte[CLUSTER];
        assertEquals(1000, codec.decompress(buf, n, out, CLUSTER));
        assertTrue(codec.ended());
        assertArrayEquals(data, Arrays.copyOf(out, 1000));
    }
}
