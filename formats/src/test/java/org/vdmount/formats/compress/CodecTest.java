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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
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

    /** Both frame decoders: libzstd (which must load on the machines the tests run on) and pure Java. */
    static Stream<ZstdFrames> zstdDecoders() {
        assertTrue(NativeZstdFrames.available(), "libzstd.so.1 does not load (apt-get install libzstd1)");
        return Stream.of(new NativeZstdFrames(), new JavaZstdFrames());
    }

    @ParameterizedTest
    @MethodSource("zstdDecoders")
    void zstdReadsSeveralFramesAndIgnoresTheNextClustersBytes(ZstdFrames decoder) throws Exception {
        byte[] data = cluster();
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(zstd(data, 0, 20_000));
        in.writeBytes(new byte[] {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9}); // skippable frame
        in.writeBytes(zstd(data, 20_000, CLUSTER));
        in.writeBytes(Arrays.copyOf(zstd(data, 0, 5000), 7)); // start of another cluster's frame
        byte[] input = in.toByteArray();
        byte[] out = new byte[CLUSTER];
        assertEquals(CLUSTER, new ZstdCodec(decoder).decompress(input, input.length, out, CLUSTER));
        assertArrayEquals(data, out);
    }

    @ParameterizedTest
    @MethodSource("zstdDecoders")
    void zstdRefusesGarbageAndTruncation(ZstdFrames decoder) {
        byte[] garbage = TestImages.pattern(500, 3);
        assertThrows(Codec.DamagedException.class,
                () -> new ZstdCodec(decoder).decompress(garbage, garbage.length, new byte[CLUSTER], CLUSTER));
        byte[] frame = zstd(cluster(), 0, CLUSTER);
        assertThrows(Codec.DamagedException.class,
                () -> new ZstdCodec(decoder).decompress(frame, frame.length / 2, new byte[CLUSTER], CLUSTER));
    }

    /**
     * The two decoders agree on every frame and on every damage: frames of many sizes, each decoded
     * whole, then with bytes flipped (each must decode to the same bytes or refuse, both alike), and
     * into an output too small for the frame (both refuse).
     */
    @Test
    void zstdDecodersAgreeOnGoodAndDamagedFrames() {
        ZstdFrames nativeFrames = new NativeZstdFrames();
        ZstdFrames javaFrames = new JavaZstdFrames();
        java.util.Random random = new java.util.Random(5);
        for (int round = 0; round < 300; round++) {
            byte[] data = cluster();
            int length = 1 + random.nextInt(CLUSTER);
            byte[] frame = zstd(data, 0, length);
            if (round % 3 != 0) {
                for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                    frame[random.nextInt(frame.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            int capacity = round % 10 == 9 ? length / 2 : CLUSTER;
            String a = outcome(nativeFrames, frame, capacity);
            String b = outcome(javaFrames, frame, capacity);
            if (round % 3 == 0 && capacity == CLUSTER) {
                assertEquals("ok " + Arrays.hashCode(Arrays.copyOf(data, length)), a, "round " + round);
            }
            assertEquals(a.startsWith("ok"), b.startsWith("ok"), "round " + round + ": native " + a + ", java " + b);
            if (a.startsWith("ok")) {
                assertEquals(a, b, "round " + round);
            }
        }
    }

    private static String outcome(ZstdFrames decoder, byte[] frame, int capacity) {
        byte[] out = new byte[capacity];
        try {
            int n = decoder.decode(frame, 0, frame.length, out, 0, capacity);
            return "ok " + Arrays.hashCode(Arrays.copyOf(out, n));
        } catch (Codec.DamagedException e) {
            return "damaged";
        }
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
