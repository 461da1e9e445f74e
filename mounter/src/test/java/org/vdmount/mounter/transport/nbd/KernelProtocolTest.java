package org.vdmount.mounter.transport.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.TransmissionPhase;

/**
 * The transmission phase as the kernel's nbd driver speaks it, over a socket pair like the one the
 * transport hands the kernel: no handshake, requests with the command flags in the upper half of
 * the 32-bit type, simple replies only. The client here plays the kernel.
 */
class KernelProtocolTest {
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int REPLY_MAGIC = 0x67446698;
    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int DISC = 2;
    private static final int FLUSH = 3;
    private static final int TRIM = 4;
    private static final int WRITE_ZEROES = 6;
    private static final int FLAG_FUA = 1 << 16;
    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    private final List<VirtualDisk> disks = new ArrayList<>();
    private final List<String> log = new ArrayList<>();
    private SocketChannelFd kernel;
    private CompletableFuture<Throwable> server;

    @AfterEach
    void close() throws IOException {
        if (kernel != null) {
            kernel.shutdown();
            kernel.close();
        }
        for (VirtualDisk d : disks) {
            d.close();
        }
    }

    private byte[] image(boolean writable) throws IOException {
        byte[] content = new byte[SIZE];
        new Random(5).nextBytes(content);
        Path file = dir.resolve("disk.img");
        Files.write(file, content);
        VirtualDisk disk = Images.open(file, new OpenOptions(null, 0, writable), w -> { });
        disks.add(disk);
        SocketPair pair = SocketPair.open();
        kernel = new SocketChannelFd(pair.kernelEnd());
        SocketChannelFd ours = new SocketChannelFd(pair.serverEnd());
        NbdExport export = NbdExport.of("disk.img", "", disk, writable, log::add);
        server = CompletableFuture.supplyAsync(() -> {
            try (ours) {
                TransmissionPhase.serve(ours, export);
                return null;
            } catch (IOException | RuntimeException e) {
                return e;
            }
        });
        return content;
    }

    private void request(int type, long handle, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(REQUEST_MAGIC).putInt(type).putLong(handle).putLong(offset).putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        b.flip();
        while (b.hasRemaining()) {
            kernel.write(b);
        }
    }

    /** Reads one simple reply for {@code handle}; returns its error, and fills {@code data} on success. */
    private int reply(long handle, byte[] data) throws IOException {
        ByteBuffer header = readFully(16);
        assertEquals(REPLY_MAGIC, header.getInt());
        int error = header.getInt();
        assertEquals(handle, header.getLong());
        if (error == 0 && data != null) {
            readFully(data.length).get(data);
        }
        return error;
    }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (kernel.read(b) < 0) {
                throw new IOException("server closed the connection");
            }
        }
        return b.flip();
    }

    private Throwable serverEnd() throws Exception {
        return server.get(10, TimeUnit.SECONDS);
    }

    @Test
    void pipelinedReadsComeBackInOrderWithTheirData() throws Exception {
        byte[] content = image(false);
        // The driver's handles: a 32-bit cookie above a blk-mq tag.
        long[] handles = {0x0000000100000000L, 0x0000000100000001L, 0x00000002000000ffL};
        int[] offsets = {0, 4096, SIZE - 131072};
        int[] lengths = {512, 65536, 131072};
        for (int i = 0; i < handles.length; i++) {
            request(READ, handles[i], offsets[i], lengths[i], null);
        }
        for (int i = 0; i < handles.length; i++) {
            byte[] data = new byte[lengths[i]];
            assertEquals(0, reply(handles[i], data));
            assertArrayEquals(Arrays.copyOfRange(content, offsets[i], offsets[i] + lengths[i]), data);
        }
        request(DISC, 9, 0, 0, null);
        assertNull(serverEnd());
    }

    @Test
    void writesWithFuaFlushTrimAndWriteZeroesReachTheImage() throws Exception {
        byte[] content = image(true);
        byte[] written = new byte[8192];
        new Random(6).nextBytes(written);
        request(WRITE | FLAG_FUA, 1, 12288, written.length, written);
        assertEquals(0, reply(1, null));
        request(WRITE_ZEROES, 2, 65536, 4096, null);
        assertEquals(0, reply(2, null));
        request(TRIM, 3, 131072, 4096, null);
        assertEquals(0, reply(3, null));
        request(FLUSH, 4, 0, 0, null);
        assertEquals(0, reply(4, null));
        byte[] back = new byte[written.length];
        request(READ, 5, 12288, back.length, null);
        assertEquals(0, reply(5, back));
        assertArrayEquals(written, back);
        request(DISC, 6, 0, 0, null);
        assertNull(serverEnd());
        System.arraycopy(written, 0, content, 12288, written.length);
        Arrays.fill(content, 65536, 65536 + 4096, (byte) 0);
        Arrays.fill(content, 131072, 131072 + 4096, (byte) 0); // trimmed: a raw image's discard writes zeros
        assertArrayEquals(content, Files.readAllBytes(dir.resolve("disk.img")));
    }

    @Test
    void aReadOnlyDeviceRefusesWritesAndGoesOn() throws Exception {
        byte[] content = image(false);
        request(WRITE, 1, 0, 4096, new byte[4096]);
        assertEquals(1, reply(1, null)); // EPERM; the kernel turns any error into EIO
        request(READ, 2, SIZE - 512, 1024, null);
        assertEquals(22, reply(2, null)); // EINVAL: past the end
        byte[] data = new byte[4096];
        request(READ, 3, 0, 4096, null);
        assertEquals(0, reply(3, data));
        assertArrayEquals(Arrays.copyOf(content, 4096), data);
        // The kernel closing its end between requests is a normal end too.
        kernel.shutdown();
        assertNull(serverEnd());
    }

    @Test
    void aConnectionCutInsideARequestIsAnError() throws Exception {
        image(true);
        ByteBuffer half = ByteBuffer.allocate(14).putInt(REQUEST_MAGIC).putInt(READ).putInt(0).putShort((short) 0).flip();
        kernel.write(half);
        kernel.shutdown();
        Throwable end = serverEnd();
        assertTrue(end instanceof IOException && end.getMessage().contains("inside a request"), String.valueOf(end));
    }
}
