package org.vdmount.mounter.serve.kill;

import static org.vdmount.mounter.nbd.NbdProtocol.*;
import static org.vdmount.mounter.serve.kill.SectorPattern.SECTOR;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.vdmount.mounter.serve.NbdTestClient;
import org.vdmount.mounter.serve.kill.WriteHistory.Kind;
import org.vdmount.mounter.serve.kill.WriteHistory.Op;

/**
 * A random write stream over NBD until the server dies: writes of 4 KiB to 256 KiB at sector
 * offsets (a quarter of them cluster-aligned), some with FUA, some write-zeroes and trims, several
 * requests in flight, and a FLUSH every 1 to 32 operations, sent once every earlier request is
 * answered. Everything sent, acknowledged and flushed goes into the {@link WriteHistory}.
 */
final class RandomWriteStream {
    private static final int MIN_SECTORS = 4096 / SECTOR;
    private static final int MAX_SECTORS = 256 * 1024 / SECTOR;
    private static final int CLUSTER_SECTORS = 65536 / SECTOR;
    private static final long FLUSH_COOKIE = 1L << 62;

    /**
     * What one server's life saw.
     *
     * @param flushes       the FLUSH requests acknowledged
     * @param killedInFlush the server died with a FLUSH sent and not answered
     */
    record Outcome(int sent, int acknowledged, int flushes, boolean killedInFlush) {
    }

    private final WriteHistory history;
    private final Random random;
    private final ByteBuffer payload = ByteBuffer.allocate(MAX_SECTORS * SECTOR);

    RandomWriteStream(WriteHistory history, Random random) {
        this.history = history;
        this.random = random;
    }

    /**
     * Writes to {@code server} until the connection breaks because it was killed: by a timer
     * elsewhere, or here, right after FLUSH number {@code killAtFlush} is sent (0: never).
     * Anything else that ends the stream (an error reply, the server ending by itself) fails.
     */
    Outcome run(ServeProcess server, int killAtFlush) throws IOException {
        int sent = 0;
        int acknowledged = 0;
        int flushes = 0;
        boolean flushPending = false;
        int window = 1 + random.nextInt(8);
        ArrayDeque<Integer> inFlight = new ArrayDeque<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (NbdTestClient client = new NbdTestClient(server.address())) {
            NbdTestClient.Opened export = client.go(server.export());
            requireFlags(export.flags());
            if (export.size() != (long) history.sectorCount() * SECTOR) {
                throw new AssertionError("the export's size is " + export.size());
            }
            int untilFlush = 1 + random.nextInt(32);
            while (true) {
                if (System.nanoTime() > deadline) {
                    server.kill(); // a stream the timer missed: end it the same way
                }
                if (untilFlush-- == 0) {
                    while (!inFlight.isEmpty()) {
                        acknowledge(client.reply(), inFlight.poll());
                        acknowledged++;
                    }
                    int covered = history.sentCount();
                    client.queue(0, CMD_FLUSH, FLUSH_COOKIE + flushes, 0, 0, null);
                    client.send();
                    flushPending = true;
                    if (flushes + 1 == killAtFlush) {
                        // Early in the flush, or later, while the metadata is being written.
                        LockSupport.parkNanos(random.nextInt(random.nextBoolean() ? 3_000_000 : 30_000_000));
                        server.kill();
                    }
                    check(client.reply(), FLUSH_COOKIE + flushes, "FLUSH");
                    flushPending = false;
                    flushes++;
                    history.flushed(covered);
                    untilFlush = 1 + random.nextInt(32);
                    continue;
                }
                Op op = next();
                inFlight.add(history.sentCount() - 1);
                sent++;
                send(client, op);
                if (inFlight.size() >= window) {
                    acknowledge(client.reply(), inFlight.poll());
                    acknowledged++;
                }
            }
        } catch (IOException e) {
            if (!server.killRequested()) {
                throw new IOException("the connection broke though the server was not killed: " + e
                        + "; the server's log:\n" + server.logTail(), e);
            }
            return new Outcome(sent, acknowledged, flushes, flushPending);
        }
    }

    private static void requireFlags(int flags) {
        int wanted = TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES;
        if ((flags & TFLAG_READ_ONLY) != 0 || (flags & wanted) != wanted) {
            throw new AssertionError("a --rw export should take writes, FUA, trims and write-zeroes: flags "
                    + Integer.toBinaryString(flags));
        }
    }

    /** The next operation, recorded as sent. */
    private Op next() {
        int draw = random.nextInt(100);
        Kind kind = draw < 8 ? Kind.WRITE_ZEROES : draw < 16 ? Kind.TRIM : Kind.WRITE;
        int sectors;
        long sector;
        if (random.nextInt(4) == 0) {
            sectors = CLUSTER_SECTORS * (1 + random.nextInt(MAX_SECTORS / CLUSTER_SECTORS));
            sector = (long) CLUSTER_SECTORS * random.nextInt((history.sectorCount() - sectors) / CLUSTER_SECTORS + 1);
        } else {
            sectors = MIN_SECTORS + random.nextInt(MAX_SECTORS - MIN_SECTORS + 1);
            sector = random.nextInt(history.sectorCount() - sectors + 1);
        }
        return history.sent(kind, sector, sectors, random.nextInt(10) == 0);
    }

    private void send(NbdTestClient client, Op op) throws IOException {
        int flags = op.fua() ? CMD_FLAG_FUA : 0;
        long offset = op.sector() * SECTOR;
        long length = (long) op.sectors() * SECTOR;
        switch (op.kind()) {
            case WRITE -> {
                payload.clear();
                SectorPattern.fill(payload, op.id(), op.sector(), op.sectors());
                payload.flip();
                client.queue(flags, CMD_WRITE, op.id(), offset, length, payload);
            }
            case WRITE_ZEROES -> client.queue(flags, CMD_WRITE_ZEROES, op.id(), offset, length, null);
            case TRIM -> client.queue(flags, CMD_TRIM, op.id(), offset, length, null);
        }
        client.send();
    }

    private void acknowledge(NbdTestClient.Reply reply, int index) {
        check(reply, history.op(index).id(), history.op(index).toString());
        history.acknowledged(index);
    }

    /** The server answers in order, and must carry out every request of this stream. */
    private static void check(NbdTestClient.Reply reply, long cookie, String request) {
        if (reply.cookie() != cookie) {
            throw new AssertionError("reply to cookie " + reply.cookie() + " where " + cookie + " (" + request + ") was due");
        }
        if (reply.error() != 0) {
            throw new AssertionError(request + " failed with NBD error " + reply.error());
        }
    }
}
