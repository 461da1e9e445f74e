package org.vdmount.mounter.nbd;

import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;

/**
 * The transmission phase of one connection: requests are taken in order from a buffered reader (a
 * client that queues sixteen reads gets them served from one socket read), carried out by the
 * export's {@link RequestGateway} and answered through {@link Replies}. Only what is NBD's own is
 * checked here (flags, payload sizes, negotiated features); the gateway checks the rest and turns
 * failures into errno values, which become the protocol's errors here. A bad request gets an error
 * reply and the connection goes on; only a broken request stream (wrong magic, the peer gone) ends it.
 */
final class Transmission {
    private static final int INPUT_CAPACITY = 64 * 1024;
    private static final int ERROR_REPLY_ROOM = 2048;

    private final ByteChannel channel;
    private final NbdExport export;
    private final RequestGateway gateway;
    private final boolean structured;
    private final boolean baseAllocation;
    private final Replies replies;
    private final ReadReply reads;
    private final BlockStatusReply blockStatus;
    /** Requests as received, kept in read mode between requests. */
    private final ByteBuffer in = ByteBuffer.allocateDirect(INPUT_CAPACITY).flip();
    /** Write payloads, grown to the largest write seen (at most {@link NbdProtocol#MAX_PAYLOAD}). */
    private ByteBuffer payload;
    // What this connection did, for the verbose log.
    private long requests;
    private long bytesRead;
    private long bytesWritten;

    Transmission(ByteChannel channel, Handshake.Outcome outcome) {
        this.channel = channel;
        this.export = outcome.export();
        this.gateway = export.gateway();
        this.structured = outcome.structuredReplies();
        this.baseAllocation = outcome.baseAllocation();
        this.replies = new Replies(channel);
        this.reads = new ReadReply(gateway, replies);
        this.blockStatus = new BlockStatusReply(gateway, replies);
    }

    /** Serves requests until the client disconnects. */
    void run() throws IOException {
        while (fill(REQUEST_HEADER_SIZE)) {
            if (in.getInt() != REQUEST_MAGIC) {
                throw new ProtocolViolation("request without the request magic");
            }
            int flags = in.getShort() & 0xffff;
            int type = in.getShort() & 0xffff;
            long cookie = in.getLong();
            long offset = in.getLong();
            long length = in.getInt() & 0xffffffffL;
            if (type == CMD_DISC) {
                break;
            }
            requests++;
            serve(type, flags, cookie, offset, length);
        }
        replies.flush();
    }

    /** One line on what the client did, for the log. */
    String summary() {
        return requests + " requests on '" + export.name() + "': " + bytesRead + " bytes read, "
                + bytesWritten + " bytes written";
    }

    private void serve(int type, int flags, long cookie, long offset, long length) throws IOException {
        switch (type) {
            case CMD_READ -> read(flags, cookie, offset, length);
            case CMD_WRITE -> write(flags, cookie, offset, length);
            case CMD_FLUSH -> reply(type, cookie, flags != 0 ? Errno.EINVAL : gateway.flush());
            case CMD_TRIM -> reply(type, cookie, (flags & ~CMD_FLAG_FUA) != 0 ? Errno.EINVAL
                    : gateway.trim(offset, length, (flags & CMD_FLAG_FUA) != 0));
            case CMD_WRITE_ZEROES -> reply(type, cookie, (flags & ~(CMD_FLAG_FUA | CMD_FLAG_NO_HOLE)) != 0 ? Errno.EINVAL
                    : gateway.writeZeroes(offset, length, (flags & CMD_FLAG_FUA) != 0));
            case CMD_BLOCK_STATUS -> blockStatus(flags, cookie, offset, length);
            default -> reply(type, cookie, Errno.EINVAL);
        }
    }

    private void read(int flags, long cookie, long offset, long length) throws IOException {
        if ((flags & ~(structured ? CMD_FLAG_DF : 0)) != 0 || length > MAX_PAYLOAD) {
            reply(CMD_READ, cookie, Errno.EINVAL);
            return;
        }
        // Room first: reserving may send queued replies, which would move the mark.
        replies.reserve(ReadReply.room((int) length));
        int mark = replies.mark();
        int errno = structured ? reads.structured(cookie, offset, (int) length, (flags & CMD_FLAG_DF) != 0)
                : reads.simple(cookie, offset, (int) length);
        if (errno != 0) {
            replies.reset(mark);
            reply(CMD_READ, cookie, errno);
        } else {
            bytesRead += length;
        }
    }

    private void write(int flags, long cookie, long offset, long length) throws IOException {
        // The payload follows whatever we answer: take it off the wire first, bounded in memory.
        // Beyond the advertised maximum, no honest client sends it: end the connection instead.
        if (length > MAX_PAYLOAD) {
            throw new ProtocolViolation("write of " + length + " bytes (at most " + MAX_PAYLOAD + ")");
        }
        if (!export.writable()) {
            skipPayload(length);
            reply(CMD_WRITE, cookie, Errno.EROFS);
            return;
        }
        ByteBuffer data = payload((int) length);
        int errno = (flags & ~CMD_FLAG_FUA) != 0 ? Errno.EINVAL
                : gateway.write(data, offset, (flags & CMD_FLAG_FUA) != 0);
        if (errno == 0) {
            bytesWritten += length;
        }
        reply(CMD_WRITE, cookie, errno);
    }

    private void blockStatus(int flags, long cookie, long offset, long length) throws IOException {
        if (!baseAllocation || (flags & ~CMD_FLAG_REQ_ONE) != 0 || length == 0) {
            reply(CMD_BLOCK_STATUS, cookie, Errno.EINVAL);
            return;
        }
        replies.reserve(BlockStatusReply.ROOM);
        int mark = replies.mark();
        int errno = blockStatus.send(cookie, offset, length, (flags & CMD_FLAG_REQ_ONE) != 0);
        if (errno != 0) {
            replies.reset(mark);
            reply(CMD_BLOCK_STATUS, cookie, errno);
        }
    }

    /**
     * Answers a request with the gateway's result: success, or its errno as the protocol's error
     * (in an error chunk for the commands that have structured replies).
     */
    private void reply(int type, long cookie, int errno) throws IOException {
        if (errno == 0) {
            replies.reserve(SIMPLE_REPLY_SIZE);
            replies.simple(cookie, 0);
            return;
        }
        int error = NbdProtocol.errorFor(errno);
        replies.reserve(ERROR_REPLY_ROOM);
        if (structured && (type == CMD_READ || type == CMD_BLOCK_STATUS)) {
            replies.structuredError(cookie, error, message(type, errno));
        } else {
            replies.simple(cookie, error);
        }
    }

    /** The text of an error chunk: what failed; the reason stays in the server's log. */
    private static String message(int type, int errno) {
        String what = type == CMD_READ ? "read" : "block status";
        return switch (errno) {
            case Errno.EINVAL -> what + ": invalid request (outside the export, or bad flags)";
            case Errno.ENOMEM -> what + ": the server is out of memory";
            default -> what + ": the image could not be read (the server's log says why)";
        };
    }

    /**
     * Makes sure {@code n} request bytes are buffered; before waiting for the client, everything
     * answered so far is sent. False when the client closed between requests.
     */
    private boolean fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return true;
        }
        replies.flush();
        in.compact();
        while (in.position() < n) {
            if (channel.read(in) < 0) {
                boolean clean = in.position() == 0;
                in.flip();
                if (clean) {
                    return false;
                }
                throw new EOFException("client closed the connection inside a request");
            }
        }
        in.flip();
        return true;
    }

    /** The write payload of {@code length} bytes: what is buffered, then the rest straight off the wire. */
    private ByteBuffer payload(int length) throws IOException {
        if (payload == null || payload.capacity() < length) {
            int capacity = payload == null ? INPUT_CAPACITY : payload.capacity();
            while (capacity < length) {
                capacity = (int) Math.min(MAX_PAYLOAD, 2L * capacity);
            }
            payload = ByteBuffer.allocateDirect(capacity);
        }
        ByteBuffer data = payload.clear().limit(length);
        int buffered = Math.min(length, in.remaining());
        data.put(in.duplicate().limit(in.position() + buffered));
        in.position(in.position() + buffered);
        Wire.readFully(channel, data);
        return data.flip();
    }

    /** Reads and drops {@code length} payload bytes through the input buffer. */
    private void skipPayload(long length) throws IOException {
        long left = length;
        while (left > 0) {
            if (!in.hasRemaining() && !fill(1)) {
                throw new EOFException("client closed the connection inside a write");
            }
            int n = (int) Math.min(left, in.remaining());
            in.position(in.position() + n);
            left -= n;
        }
    }
}
