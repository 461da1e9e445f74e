package org.vdmount.mounter.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately naive NBD client that sends exactly what a test says, valid or not, and hands back
 * the raw replies: real clients refuse to send bad requests, so the bad-request paths need this.
 * Requests may also be queued and sent together, several in flight, with each simple reply read
 * back as it comes, so that a test knows exactly which requests the server acknowledged (the
 * kill test of {@code serve --rw}).
 */
public final class NbdTestClient implements Closeable {
    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    record Chunk(int flags, int type, long cookie, byte[] payload) {
        ByteBuffer buffer() {
            return ByteBuffer.wrap(payload);
        }

        boolean done() {
            return (flags & REPLY_FLAG_DONE) != 0;
        }
    }

    public record Opened(long size, int flags) {
    }

    /** A simple reply: the request's cookie and its error (0: done). */
    public record Reply(long cookie, int error) {
    }

    private final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    public NbdTestClient(InetSocketAddress address) throws IOException {
        socket = new Socket(address.getAddress(), address.getPort());
        // Long enough for a server's flush on a loaded machine: a read that times out fails the test.
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 20));
        assertEquals(NBDMAGIC, in.readLong());
        assertEquals(IHAVEOPT, in.readLong());
        assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, in.readUnsignedShort());
        out.writeInt(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        assertEquals(OPTION_REPLY_MAGIC, in.readLong());
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    OptionReply option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        return readOptionReply();
    }

    void structuredReplies() throws IOException {
        assertEquals(REP_ACK, option(OPT_STRUCTURED_REPLY, new byte[0]).type());
    }

    /** SET_META_CONTEXT for base:allocation on {@code export}; returns the first reply. */
    OptionReply setBaseAllocation(String export) throws IOException {
        byte[] name = utf8(export);
        byte[] query = utf8(BASE_ALLOCATION);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 4 + 4 + query.length);
        b.putInt(name.length).put(name).putInt(1).putInt(query.length).put(query);
        OptionReply first = option(OPT_SET_META_CONTEXT, b.array());
        if (first.type() == REP_META_CONTEXT) {
            assertEquals(REP_ACK, readOptionReply().type());
        }
        return first;
    }

    static byte[] goData(String export) {
        byte[] name = utf8(export);
        return ByteBuffer.allocate(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0).array();
    }

    /** NBD_OPT_GO; the export's size and flags, or an exception naming the error reply. */
    public Opened go(String export) throws IOException {
        sendOption(OPT_GO, goData(export));
        Opened opened = null;
        while (true) {
            OptionReply r = readOptionReply();
            if (r.type() == REP_ACK) {
                return opened;
            }
            if (r.type() < 0) {
                throw new IOException("error reply " + (r.type() & 0x7fffffff) + ": " + r.text());
            }
            ByteBuffer b = ByteBuffer.wrap(r.data());
            if (r.type() == REP_INFO && b.getShort() == INFO_EXPORT) {
                opened = new Opened(b.getLong(), b.getShort() & 0xffff);
            }
        }
    }

    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        queue(flags, type, cookie, offset, length, null);
        send();
    }

    /** Queues a request and, for a write, its payload; {@link #send} puts what is queued on the wire. */
    public void queue(int flags, int type, long cookie, long offset, long length, ByteBuffer payload)
            throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
        }
    }

    public void send() throws IOException {
        out.flush();
    }

    /** The next simple reply, without its payload (which a READ's caller then reads with {@link #readPayload}). */
    public Reply reply() throws IOException {
        assertEquals(SIMPLE_REPLY_MAGIC, in.readInt());
        int error = in.readInt();
        return new Reply(in.readLong(), error);
    }

    public void readPayload(byte[] dst, int offset, int length) throws IOException {
        in.readFully(dst, offset, length);
    }

    /** A simple reply's error number, checking the cookie. */
    int simpleReply(long cookie) throws IOException {
        Reply reply = reply();
        assertEquals(cookie, reply.cookie());
        return reply.error();
    }

    Chunk chunk() throws IOException {
        assertEquals(STRUCTURED_REPLY_MAGIC, in.readInt());
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Chunk(flags, type, cookie, payload);
    }

    /** Whether the server has closed the connection (reads end instead of timing out). */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
