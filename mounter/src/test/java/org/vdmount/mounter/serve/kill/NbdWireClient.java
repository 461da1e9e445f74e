package org.vdmount.mounter.serve.kill;

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
 * The NBD client side the kill test needs and no more: fixed newstyle negotiation with OPT_GO,
 * then requests sent as the caller says (several may be in flight) and simple replies read back,
 * so the caller knows exactly which requests the server acknowledged.
 */
final class NbdWireClient implements Closeable {
    /** A simple reply: the request's cookie and the error (0: done). */
    record Reply(long cookie, int error) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final long size;
    private final int flags;

    NbdWireClient(InetSocketAddress address, String export) throws IOException {
        socket = new Socket(address.getAddress(), address.getPort());
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 20));
        if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
            throw new IOException("not an NBD newstyle server");
        }
        in.readUnsignedShort();
        out.writeInt(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(IHAVEOPT);
        out.writeInt(OPT_GO);
        out.writeInt(4 + name.length + 2);
        out.writeInt(name.length);
        out.write(name);
        out.writeShort(0);
        out.flush();
        long exportSize = -1;
        int exportFlags = 0;
        while (true) {
            if (in.readLong() != OPTION_REPLY_MAGIC) {
                throw new IOException("bad option reply magic");
            }
            in.readInt();
            int type = in.readInt();
            byte[] data = new byte[in.readInt()];
            in.readFully(data);
            if (type == REP_ACK) {
                break;
            }
            if (type < 0) {
                throw new IOException("OPT_GO refused: " + new String(data, StandardCharsets.UTF_8));
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            if (type == REP_INFO && b.getShort() == INFO_EXPORT) {
                exportSize = b.getLong();
                exportFlags = b.getShort() & 0xffff;
            }
        }
        this.size = exportSize;
        this.flags = exportFlags;
    }

    long size() {
        return size;
    }

    /** The transmission flags the server advertised. */
    int flags() {
        return flags;
    }

    /** Queues a request (and its payload, for a write); {@link #send} puts what is queued on the wire. */
    void queue(int type, int commandFlags, long cookie, long offset, long length, ByteBuffer payload) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(commandFlags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
        }
    }

    void send() throws IOException {
        out.flush();
    }

    /** The next simple reply (without its payload, which a READ's caller then reads with {@link #readPayload}). */
    Reply reply() throws IOException {
        if (in.readInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic");
        }
        int error = in.readInt();
        return new Reply(in.readLong(), error);
    }

    void readPayload(byte[] dst, int offset, int length) throws IOException {
        in.readFully(dst, offset, length);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
