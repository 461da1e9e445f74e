package org.vdmount.mounter.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.jna.LibC;

/**
 * The ring mechanics against this machine's kernel (it has io_uring, as CI's has): entries go in
 * through the submission ring and come back, many times round, through the completion ring.
 */
class IoUringTest {
    @TempDir
    Path dir;

    @Test
    void nopsGoRoundTheRingsManyTimes() throws IOException {
        try (IoUring ring = IoUring.open(8, 0)) {
            assertEquals(8, ring.sqEntries());
            assertTrue(ring.cqEntries() >= 8);
            long next = 1;
            long seen = 0;
            // Far more entries than the rings hold, so head and tail wrap many times.
            for (int round = 0; round < 1000; round++) {
                int batch = 1 + round % 8;
                for (int i = 0; i < batch; i++) {
                    int at = ring.prepare();
                    ring.sqes().put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_NOP);
                    ring.sqes().putLong(at + IoUringAbi.Sqe.USER_DATA, next++);
                }
                ring.submit(batch);
                int ready = ring.ready();
                assertEquals(batch, ready);
                for (int i = 0; i < ready; i++) {
                    assertEquals(++seen, ring.userData(i));
                    assertEquals(0, ring.result(i));
                }
                ring.consume(ready);
            }
            assertEquals(next - 1, seen);
        }
    }

    @Test
    void aFullSubmissionQueueIsRefused() throws IOException {
        try (IoUring ring = IoUring.open(4, 0)) {
            for (int i = 0; i < 4; i++) {
                ring.prepare();
            }
            assertThrows(IllegalStateException.class, ring::prepare);
        }
    }

    @Test
    void readsLandInOurBuffersWithTheirResults() throws IOException {
        byte[] data = new byte[64 * 1024];
        new Random(7).nextBytes(data);
        Path file = Files.write(dir.resolve("data"), data);
        int fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try (IoUring ring = IoUring.open(16, 0); Memory buffer = new Memory(data.length)) {
            Map<Long, Integer> offsets = new HashMap<>();
            for (int i = 0; i < 16; i++) {
                int at = ring.prepare();
                ByteBuffer sqe = ring.sqes();
                sqe.put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_READ);
                sqe.putInt(at + IoUringAbi.Sqe.FD, fd);
                sqe.putLong(at + IoUringAbi.Sqe.OFF, i * 4096L);
                sqe.putLong(at + IoUringAbi.Sqe.ADDR, Pointer.nativeValue(buffer) + i * 4096L);
                sqe.putInt(at + IoUringAbi.Sqe.LEN, 4096);
                sqe.putLong(at + IoUringAbi.Sqe.USER_DATA, 100 + i);
                offsets.put(100L + i, i * 4096);
            }
            int done = 0;
            while (done < 16) {
                ring.submit(1);
                int ready = ring.ready();
                for (int i = 0; i < ready; i++) {
                    assertTrue(offsets.remove(ring.userData(i)) != null);
                    assertEquals(4096, ring.result(i));
                }
                ring.consume(ready);
                done += ready;
            }
            assertTrue(offsets.isEmpty());
            assertArrayEquals(data, buffer.getByteArray(0, data.length));
            // A bad descriptor fails its entry only, with the errno as a negative result.
            int at = ring.prepare();
            ring.sqes().put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_READ);
            ring.sqes().putInt(at + IoUringAbi.Sqe.FD, 1_000_000);
            ring.sqes().putLong(at + IoUringAbi.Sqe.ADDR, Pointer.nativeValue(buffer));
            ring.sqes().putInt(at + IoUringAbi.Sqe.LEN, 16);
            ring.submit(1);
            assertEquals(-9, ring.result(0)); // EBADF
            ring.consume(1);
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    @Test
    void aRingOfThisThreadReadsARegisteredFile() throws IOException {
        byte[] data = new byte[8192];
        new Random(11).nextBytes(data);
        Path file = Files.write(dir.resolve("fixed"), data);
        int fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try (IoUring ring = IoUring.openForThisThread(4, 0); Memory buffer = new Memory(data.length)) {
            ring.registerFiles(fd);
            for (int i = 0; i < 2; i++) {
                int at = ring.prepare();
                ByteBuffer sqe = ring.sqes();
                sqe.put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_READ);
                sqe.put(at + IoUringAbi.Sqe.FLAGS, (byte) IoUringAbi.SQE_FIXED_FILE);
                sqe.putInt(at + IoUringAbi.Sqe.FD, 0);
                sqe.putLong(at + IoUringAbi.Sqe.OFF, i * 4096L);
                sqe.putLong(at + IoUringAbi.Sqe.ADDR, Pointer.nativeValue(buffer) + i * 4096L);
                sqe.putInt(at + IoUringAbi.Sqe.LEN, 4096);
            }
            ring.submit(2);
            assertEquals(2, ring.ready());
            assertEquals(4096, ring.result(0));
            assertEquals(4096, ring.result(1));
            ring.consume(2);
            assertArrayEquals(data, buffer.getByteArray(0, data.length));
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    @Test
    void aWaitWithATimeLimitEndsWithoutACompletion() throws IOException {
        try (IoUring ring = IoUring.open(4, IoUringAbi.SETUP_SQE128)) {
            assertEquals(128, ring.sqeSize());
            long start = System.nanoTime();
            assertFalse(ring.submitAndAwait(50));
            assertTrue(System.nanoTime() - start >= 40_000_000L);
            int at = ring.prepare();
            ring.sqes().put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_NOP);
            assertTrue(ring.submitAndAwait(5_000));
            assertEquals(1, ring.ready());
            ring.consume(1);
        }
    }
}
