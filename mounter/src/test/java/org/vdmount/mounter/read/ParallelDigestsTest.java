package org.vdmount.mounter.read;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ParallelDigestsTest {
    private static final List<String> ALGORITHMS = List.of("MD5", "SHA-1", "SHA-256", "SHA-512");

    @Test
    void everyDigestSeesEveryChunkInOrderWhateverTheGroups() throws Exception {
        Random random = new Random(7);
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // past two re-balancings
            byte[] bytes = new byte[1 + random.nextInt(300_000)];
            random.nextBytes(bytes);
            chunks.add(bytes);
        }
        for (int cpus = 1; cpus <= 5; cpus++) {
            List<MessageDigest> parallel = new ArrayList<>();
            List<MessageDigest> alone = new ArrayList<>();
            for (String a : ALGORITHMS) {
                parallel.add(MessageDigest.getInstance(a));
                alone.add(MessageDigest.getInstance(a));
            }
            try (ParallelDigests hashing = new ParallelDigests(parallel, cpus)) {
                long offset = 0;
                for (byte[] c : chunks) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(c.length).put(c).flip();
                    hashing.accept(new Chunk(offset, buffer, List.of()));
                    buffer.clear().put(new byte[c.length]); // the reader reuses the buffer once accept returns
                    offset += c.length;
                    for (MessageDigest d : alone) {
                        d.update(c);
                    }
                }
                assertEquals(Math.min(cpus, ALGORITHMS.size()), hashing.groupNames().size(), "groups with " + cpus + " CPUs");
            }
            for (int i = 0; i < ALGORITHMS.size(); i++) {
                assertArrayEquals(alone.get(i).digest(), parallel.get(i).digest(), ALGORITHMS.get(i) + ", " + cpus + " CPUs");
            }
        }
    }

    @Test
    void withTwoCpusMd5HasOneAndTheShaHashesShareTheOther() throws Exception {
        List<MessageDigest> digests = new ArrayList<>();
        for (String a : List.of("MD5", "SHA-1", "SHA-256")) {
            digests.add(MessageDigest.getInstance(a));
        }
        try (ParallelDigests hashing = new ParallelDigests(digests, 2)) {
            assertEquals(List.of(List.of("MD5"), List.of("SHA-1", "SHA-256")), hashing.groupNames());
        }
    }
}
