package org.vdmount.mounter.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.RunKind.DATA;
import static org.vdmount.formats.RunKind.UNALLOCATED;
import static org.vdmount.formats.RunKind.UNREADABLE;
import static org.vdmount.formats.RunKind.ZERO;
import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.serve.NbdTestSupport.LayoutDisk;

/** The server's answers to exact requests, valid and invalid, through a naive client. */
class NbdProtocolTest {
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private NbdServer server;
    private final List<VirtualDisk> disks = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        for (VirtualDisk d : disks) {
            d.close();
        }
    }

    /** Serves a layout disk as "layout" (read-only) and returns a connected client, transmission ready. */
    private LayoutDisk serveLayout(Object... layout) throws IOException {
        LayoutDisk disk = LayoutDisk.of(layout);
        server = NbdServer.start(new NbdExports(List.of(NbdExport.of("layout", "test", disk, false, log::add))),
                NbdTestSupport.loopbackAnyPort(), log::add);
        return disk;
    }

    private NbdTestClient client() throws IOException {
        return new NbdTestClient((InetSocketAddress) server.address());
    }

    @Test
    void outOfRangeReadIsEinvalAndTheConnectionGoesOn() throws IOException {
        LayoutDisk disk = serveLayout(DATA, 64 * 1024);
        try (NbdTestClient c = client()) {
            NbdTestClient.Opened opened = c.go("layout");
            assertEquals(64 * 1024, opened.size());
            c.request(0, CMD_READ, 1, 60 * 1024, 8192);
            assertEquals(EINVAL, c.simpleReply(1));
            c.request(0, CMD_READ, 2, -4096L, 4096); // offset 2^64 - 4096: unsigned, far past the end
            assertEquals(EINVAL, c.simpleReply(2));
            c.request(0, CMD_READ, 3, 0, 0xffffffffL); // 4 GiB - 1: never allocated
            assertEquals(EINVAL, c.simpleReply(3));
            c.request(0, CMD_READ, 4, 1000, 3000);
            assertEquals(0, c.simpleReply(4));
            byte[] got = new byte[3000];
            c.in.readFully(got);
            assertArrayEquals(Arrays.copyOfRange(disk.expected(), 1000, 4000), got);
        }
    }

    @Test
    void writesToAReadOnlyExportAreEpermAndTheirPayloadIsSkipped() throws IOException {
        LayoutDisk disk = serveLayout(DATA, 64 * 1024);
        try (NbdTestClient c = client()) {
            NbdTestClient.Opened opened = c.go("");
            assertEquals(TFLAG_READ_ONLY | TFLAG_CAN_MULTI_CONN,
                    opened.flags() & (TFLAG_READ_ONLY | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_TRIM));
            c.out.writeInt(REQUEST_MAGIC);
            c.out.writeShort(0);
            c.out.writeShort(CMD_WRITE);
            c.out.writeLong(7);
            c.out.writeLong(0);
            c.out.writeInt(100_000);
            c.out.write(new byte[100_000]);
            c.out.flush();
            assertEquals(EPERM, c.simpleReply(7));
            c.request(0, CMD_TRIM, 8, 0, 4096);
            assertEquals(EPERM, c.simpleReply(8));
            c.request(0, CMD_WRITE_ZEROES, 9, 0, 4096);
            assertEquals(EPERM, c.simpleReply(9));
            c.request(0, CMD_FLUSH, 10, 0, 0);
            assertEquals(0, c.simpleReply(10));
            c.request(0, CMD_READ, 11, 0, 16);
            assertEquals(0, c.simpleReply(11));
            byte[] got = new byte[16];
            c.in.readFully(got);
            assertArrayEquals(Arrays.copyOf(disk.expected(), 16), got);
        }
    }

    @Test
    void tooLargeReadsAndUnknownCommandsAreEinval() throws IOException {
        serveLayout(UNALLOCATED, 64L * MIB);
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_READ, 1, 0, MAX_PAYLOAD + 1);
            assertEquals(EINVAL, c.simpleReply(1));
            c.request(0, 42, 2, 0, 0);
            assertEquals(EINVAL, c.simpleReply(2));
            c.request(CMD_FLAG_DF, CMD_READ, 3, 0, 512); // DF needs structured replies
            assertEquals(EINVAL, c.simpleReply(3));
            c.request(0, CMD_BLOCK_STATUS, 4, 0, 512); // no context negotiated
            assertEquals(EINVAL, c.simpleReply(4));
            c.request(0, CMD_READ, 5, 0, MAX_PAYLOAD);
            assertEquals(0, c.simpleReply(5));
            byte[] got = new byte[MAX_PAYLOAD];
            c.in.readFully(got);
            assertArrayEquals(new byte[MAX_PAYLOAD], got);
        }
    }

    @Test
    void structuredReadsSendHolesForZeroStretches() throws IOException {
        LayoutDisk disk = serveLayout(DATA, 8192, UNALLOCATED, MIB, DATA, 100, ZERO, 1000, DATA, 5000,
                ZERO, 3 * 4096, UNALLOCATED, 4096);
        try (NbdTestClient c = client()) {
            c.structuredReplies();
            c.go("layout");
            long size = disk.size();
            c.request(0, CMD_READ, 5, 0, size);
            byte[] assembled = new byte[(int) size];
            Arrays.fill(assembled, (byte) 0x55);
            List<String> shape = new ArrayList<>();
            NbdTestClient.Chunk chunk;
            do {
                chunk = c.chunk();
                assertEquals(5, chunk.cookie());
                ByteBuffer b = chunk.buffer();
                long offset = b.getLong();
                if (chunk.type() == REPLY_TYPE_OFFSET_DATA) {
                    b.get(assembled, (int) offset, b.remaining());
                    shape.add("data@" + offset + "+" + (chunk.payload().length - 8));
                } else {
                    assertEquals(REPLY_TYPE_OFFSET_HOLE, chunk.type());
                    int length = b.getInt();
                    Arrays.fill(assembled, (int) offset, (int) offset + length, (byte) 0);
                    shape.add("hole@" + offset + "+" + length);
                }
            } while (!chunk.done());
            assertArrayEquals(disk.expected(), assembled);
            // The short ZERO run between data travels as data; the long ones, merged, as holes.
            assertEquals(List.of("data@0+8192", "hole@8192+" + MIB, "data@" + (8192 + MIB) + "+6100",
                    "hole@" + (8192 + MIB + 6100) + "+16384"), shape);

            c.request(CMD_FLAG_DF, CMD_READ, 6, 0, size); // don't fragment: one chunk
            chunk = c.chunk();
            assertTrue(chunk.done());
            assertEquals(REPLY_TYPE_OFFSET_DATA, chunk.type());
            assertArrayEquals(disk.expected(), Arrays.copyOfRange(chunk.payload(), 8, chunk.payload().length));

            c.request(0, CMD_READ, 7, size, 1); // errors come as an error chunk
            chunk = c.chunk();
            assertTrue(chunk.done());
            assertEquals(REPLY_TYPE_ERROR, chunk.type());
            assertEquals(EINVAL, chunk.buffer().getInt());
        }
    }

    @Test
    void blockStatusDescribesHolesZerosAndData() throws IOException {
        serveLayout(DATA, 8192, UNALLOCATED, 65536, ZERO, 4096, DATA, 512, DATA, 512);
        try (NbdTestClient c = client()) {
            c.structuredReplies();
            NbdTestClient.OptionReply context = c.setBaseAllocation("layout");
            assertEquals(REP_META_CONTEXT, context.type());
            int id = ByteBuffer.wrap(context.data()).getInt();
            c.go("layout");
            c.request(0, CMD_BLOCK_STATUS, 1, 0, 8192 + 65536 + 4096 + 1024);
            NbdTestClient.Chunk chunk = c.chunk();
            assertTrue(chunk.done());
            assertEquals(REPLY_TYPE_BLOCK_STATUS, chunk.type());
            ByteBuffer b = chunk.buffer();
            assertEquals(id, b.getInt());
            List<String> extents = new ArrayList<>();
            while (b.hasRemaining()) {
                extents.add(b.getInt() + ":" + b.getInt());
            }
            assertEquals(List.of("8192:0", "65536:3", "4096:2", "1024:0"), extents);

            c.request(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 2, 4096, 70000);
            b = c.chunk().buffer();
            b.getInt();
            assertEquals(4096, b.getInt());
            assertEquals(0, b.getInt());
            assertFalse(b.hasRemaining());

            c.request(0, CMD_BLOCK_STATUS, 3, 0, 0);
            assertEquals(REPLY_TYPE_ERROR, c.chunk().type());
        }
    }

    @Test
    void unreadableImageDataIsEioAndTheServerGoesOn() throws IOException {
        serveLayout(DATA, 4096, UNREADABLE, 4096, DATA, 4096);
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_READ, 1, 0, 12288);
            assertEquals(EIO, c.simpleReply(1));
            c.request(0, CMD_READ, 2, 8192, 4096);
            assertEquals(0, c.simpleReply(2));
            c.in.readFully(new byte[4096]);
        }
        try (NbdTestClient c = client()) {
            c.structuredReplies();
            c.go("layout");
            c.request(0, CMD_READ, 3, 0, 12288);
            NbdTestClient.Chunk chunk = c.chunk();
            assertEquals(REPLY_TYPE_ERROR, chunk.type());
            assertEquals(EIO, chunk.buffer().getInt());
            assertTrue(chunk.done());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("not accessible")), log.toString());
    }

    @Test
    void negotiationErrors() throws IOException {
        serveLayout(DATA, 4096);
        try (NbdTestClient c = client()) {
            IOException e = assertThrows(IOException.class, () -> c.go("nope"));
            assertTrue(e.getMessage().startsWith("error reply 6"), e.getMessage());
            assertEquals(REP_ERR_INVALID, c.setBaseAllocation("layout").type()); // before structured replies
            assertEquals(REP_ERR_UNSUP, c.option(4242, new byte[3]).type());
            assertEquals(REP_ERR_POLICY, c.option(OPT_STARTTLS, new byte[0]).type());
            assertEquals(REP_ERR_INVALID, c.option(OPT_GO, new byte[] {0, 0, 0, 9, 'a'}).type());
            assertEquals(REP_ERR_INVALID, c.option(OPT_LIST, new byte[1]).type());
            assertEquals(4096, c.go("layout").size()); // still usable after all that
        }
        try (NbdTestClient c = client()) {
            c.sendOption(OPT_EXPORT_NAME, NbdTestClient.utf8("nope"));
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            c.out.writeLong(IHAVEOPT);
            c.out.writeInt(OPT_GO);
            c.out.writeInt(Integer.MAX_VALUE); // an option of 2 GiB: dropped, never allocated
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            assertEquals(REP_ACK, c.option(OPT_ABORT, new byte[0]).type());
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            c.sendOption(OPT_EXPORT_NAME, NbdTestClient.utf8("layout"));
            assertEquals(4096, c.in.readLong());
            c.in.readUnsignedShort();
            c.request(0, CMD_READ, 1, 0, 4096);
            assertEquals(0, c.simpleReply(1));
            c.in.readFully(new byte[4096]);
            c.request(0, CMD_DISC, 2, 0, 0);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void aBrokenRequestDropsOnlyThatConnection() throws IOException {
        serveLayout(DATA, 4096);
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.out.writeInt(0xdeadbeef);
            c.out.write(new byte[24]);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_WRITE, 1, 0, 0xfffffff0L); // a 4 GiB write: not read, not allocated
            assertTrue(c.closedByServer());
        }
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_READ, 1, 0, 4096);
            assertEquals(0, c.simpleReply(1));
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("magic")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("write of 4294967280 bytes")), log.toString());
    }

    @Test
    void listAndMetaContextListing() throws IOException {
        LayoutDisk a = LayoutDisk.of(DATA, 4096);
        LayoutDisk b = LayoutDisk.of(DATA, 8192);
        server = NbdServer.start(new NbdExports(List.of(NbdExport.of("a", "first", a, false, log::add),
                NbdExport.of("b", "", b, false, log::add))), NbdTestSupport.loopbackAnyPort(), log::add);
        try (NbdTestClient c = client()) {
            c.sendOption(OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            NbdTestClient.OptionReply r;
            while ((r = c.readOptionReply()).type() == REP_SERVER) {
                ByteBuffer d = ByteBuffer.wrap(r.data());
                byte[] name = new byte[d.getInt()];
                d.get(name);
                byte[] description = new byte[d.remaining()];
                d.get(description);
                names.add(new String(name) + "=" + new String(description));
            }
            assertEquals(REP_ACK, r.type());
            assertEquals(List.of("a=first", "b="), names);
            c.structuredReplies();
            byte[] name = NbdTestClient.utf8("b");
            ByteBuffer list = ByteBuffer.allocate(4 + 1 + 4).putInt(1).put(name).putInt(0);
            r = c.option(OPT_LIST_META_CONTEXT, list.array());
            assertEquals(REP_META_CONTEXT, r.type());
            assertEquals(BASE_ALLOCATION, new String(r.data(), 4, r.data().length - 4));
            assertEquals(REP_ACK, c.readOptionReply().type());
            assertEquals(4096, c.go("").size());
        }
    }

    @Test
    void pipelinedRequestsAreAllAnswered() throws IOException {
        LayoutDisk disk = serveLayout(DATA, 256 * 1024);
        byte[] expected = disk.expected();
        try (NbdTestClient c = client()) {
            c.go("layout");
            // 300 requests in one go, every tenth out of range: replies come in order, errors in place.
            for (int i = 0; i < 300; i++) {
                long offset = i % 10 == 9 ? 256 * 1024 : (i * 4096L) % (252 * 1024);
                c.out.writeInt(REQUEST_MAGIC);
                c.out.writeShort(0);
                c.out.writeShort(CMD_READ);
                c.out.writeLong(1000 + i);
                c.out.writeLong(offset);
                c.out.writeInt(4096);
            }
            c.out.flush();
            for (int i = 0; i < 300; i++) {
                int error = c.simpleReply(1000 + i);
                if (i % 10 == 9) {
                    assertEquals(EINVAL, error);
                } else {
                    assertEquals(0, error);
                    int offset = (int) ((i * 4096L) % (252 * 1024));
                    byte[] got = new byte[4096];
                    c.in.readFully(got);
                    assertArrayEquals(Arrays.copyOfRange(expected, offset, offset + 4096), got, "request " + i);
                }
            }
        }
    }

    @Test
    void blockStatusRepliesAreCapped() throws IOException {
        Object[] layout = new Object[2 * 40_000];
        for (int i = 0; i < 40_000; i++) {
            layout[2 * i] = i % 2 == 0 ? DATA : UNALLOCATED;
            layout[2 * i + 1] = 512;
        }
        serveLayout(layout);
        try (NbdTestClient c = client()) {
            c.structuredReplies();
            c.setBaseAllocation("layout");
            c.go("layout");
            c.request(0, CMD_BLOCK_STATUS, 1, 0, 40_000 * 512);
            ByteBuffer b = c.chunk().buffer();
            b.getInt();
            assertEquals(8 * MAX_EXTENTS, b.remaining());
            for (int i = 0; i < MAX_EXTENTS; i++) {
                assertEquals(512, b.getInt());
                assertEquals(i % 2 == 0 ? 0 : STATE_HOLE | STATE_ZERO, b.getInt());
            }
        }
    }

    @Test
    void aClientVanishingInsideAWriteLeavesTheServerServing() throws IOException {
        serveLayout(DATA, 4096);
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_WRITE, 1, 0, 1 << 20);
            c.out.write(new byte[1000]);
            c.out.flush();
        }
        try (NbdTestClient c = client()) {
            c.go("layout");
            c.request(0, CMD_READ, 2, 0, 4096);
            assertEquals(0, c.simpleReply(2));
        }
    }

    @Test
    void clientsThatNeverChooseAnExportAreDropped() throws IOException {
        serveLayout(DATA, 4096);
        server.handshakeTimeout(300);
        try (NbdTestClient idle = client()) {
            long start = System.nanoTime();
            assertTrue(idle.closedByServer());
            assertTrue(System.nanoTime() - start < 10_000_000_000L);
        }
        try (NbdTestClient c = client()) {
            c.go("layout");
            try {
                Thread.sleep(600); // past the deadline: it no longer applies once transmission started
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.request(0, CMD_READ, 1, 0, 4096);
            assertEquals(0, c.simpleReply(1));
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("did not finish negotiating")), log.toString());
    }

    @Test
    void writableRawExportWritesZeroesAndFlushes() throws IOException, InterruptedException {
        Path image = dir.resolve("rw.img");
        Files.write(image, NbdTestSupport.pattern(MIB, 3));
        VirtualDisk disk = Images.open(image, new OpenOptions(null, 0, true), w -> { });
        disks.add(disk);
        server = NbdServer.start(new NbdExports(List.of(NbdExport.of("rw", "", disk, true, log::add))),
                NbdTestSupport.loopbackAnyPort(), log::add);
        byte[] written = NbdTestSupport.pattern(200_000, 9);
        try (NbdTestClient c = client()) {
            NbdTestClient.Opened opened = c.go("rw");
            // Writable, and still multi-connection: every connection shares the one disk object.
            assertEquals(TFLAG_CAN_MULTI_CONN | TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FUA,
                    opened.flags() & (TFLAG_READ_ONLY | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_TRIM
                            | TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_FUA));
            c.out.writeInt(REQUEST_MAGIC);
            c.out.writeShort(CMD_FLAG_FUA);
            c.out.writeShort(CMD_WRITE);
            c.out.writeLong(1);
            c.out.writeLong(4096);
            c.out.writeInt(written.length);
            c.out.write(written);
            c.out.flush();
            assertEquals(0, c.simpleReply(1));
            c.request(0, CMD_WRITE_ZEROES, 2, 300_000, 3 * MIB / 2 - 300_000 - MIB / 2);
            assertEquals(0, c.simpleReply(2));
            c.request(0, CMD_WRITE, 3, MIB - 10, 20); // past the end
            c.out.write(new byte[20]);
            c.out.flush();
            assertEquals(ENOSPC, c.simpleReply(3));
            c.request(0, CMD_TRIM, 4, 0, 4096);
            assertEquals(0, c.simpleReply(4));
            c.request(0, CMD_FLUSH, 5, 0, 0);
            assertEquals(0, c.simpleReply(5));
        }
        byte[] expected = NbdTestSupport.pattern(MIB, 3);
        System.arraycopy(written, 0, expected, 4096, written.length);
        Arrays.fill(expected, 300_000, MIB, (byte) 0);
        Arrays.fill(expected, 0, 4096, (byte) 0); // trimmed: a raw image's discard writes zeros
        assertArrayEquals(expected, Files.readAllBytes(image));
    }
}
