package org.vdmount.mounter.serve.nbd;

import static org.vdmount.mounter.serve.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;

/**
 * The transmission phase of one connection: requests are taken in order from a buffered reader (a
 * client that queues sixteen reads gets them served from one socket read) and answered through
 * {@link Replies}. A bad request gets an error reply and the connection goes on; only a broken
 * request stream (wrong magic, the peer gone) ends it.
 */
final class Transmission {
    private static final int INPUT_CAPACITY = 64 * 1024;
    private static final int ERROR_REPLY_ROOM = 2048;
    private static final int ZEROS_SIZE = 1024 * 1024;

    private final ByteChannel channel;
    private final NbdExport export;
    private final VirtualDisk disk;
    private final long size;
    private final boolean structured;
    private final boolean baseAllocation;
    private final Consumer<String> log;
    private final Replies replies;
    private final ReadReply reads;
    private final BlockStatusReply blockStatus;
    /** Requests as received, kept in read mode between requests. */
    private final ByteBuffer in = ByteBuffer.allocateDirect(INPUT_CAPACITY).flip();
    /** Write payloads, grown to the largest write seen (at most {@link NbdProtocol#MAX_PAYLOAD}). */
    private ByteBuffer payload;
    private ByteBuffer zeros;
    // What this connection did, for the verbose log.
    private long requests;
    private long bytesRead;
    private long bytesWritten;

    Transmission(ByteChannel channel, Handshake.Outcome outcome, Consumer<String> log) {
        this.channel = channel;
        this.export = outcome.export();
        this.disk = export.disk();
        this.size = disk.size();
        this.structured = outcome.structuredReplies();
        this.baseAllocation = outcome.baseAllocation();
        this.log = log;
        this.replies = new Replies(channel);
        this.reads = new ReadReply(disk, replies);
        this.blockStatus = new BlockStatusReply(disk, replies);
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
            case CMD_FLUSH -> flush(flags, cookie);
            case CMD_TRIM -> trim(flags, cookie, offset, length);
            case CMD_WRITE_ZEROES -> writeZeroes(flags, cookie, offset, length);
            case CMD_BLOCK_STATUS -> blockStatus(flags, cookie, offset, length);
            default -> error(type, cookie, EINVAL, "unknown command " + type);
        }
    }

    private void read(int flags, long cookie, long offset, long length) throws IOException {
        if ((flags & ~(structured ? CMD_FLAG_DF : 0)) != 0) {
            error(CMD_READ, cookie, EINVAL, "unsupported flags " + flags + " on a read");
        } else if (length > MAX_PAYLOAD) {
            error(CMD_READ, cookie, EINVAL, "read of " + length + " bytes is larger than " + MAX_PAYLOAD);
        } else if (!inside(offset, length)) {
            error(CMD_READ, cookie, EINVAL, outside(offset, length));
        } else {
            // Room first: reserving may send queued replies, which would move the mark.
            replies.reserve(ReadReply.room((int) length));
            int mark = replies.mark();
            try {
                if (structured) {
                    reads.structured(cookie, offset, (int) length, (flags & CMD_FLAG_DF) != 0);
                } else {
                    reads.simple(cookie, offset, (int) length);
                }
                bytesRead += length;
            } catch (IOException | RuntimeException e) {
                replies.reset(mark);
                imageError(CMD_READ, cookie, e);
            }
        }
    }

    private void write(int flags, long cookie, long offset, long length) throws IOException {
        // The payload follows whatever we answer: take it off the wire first, bounded in memory.
        // Beyond the advertised maximum, no honest client sends it: end the connection instead.
        if (length > MAX_PAYLOAD) {
            throw new ProtocolViolation("write of " + length + " bytes (at most " + MAX_PAYLOAD + ")");
        } else if (!export.writable()) {
            skipPayload(length);
            error(CMD_WRITE, cookie, EPERM, "the export is read-only");
        } else {
            ByteBuffer data = payload((int) length);
            if ((flags & ~CMD_FLAG_FUA) != 0) {
                error(CMD_WRITE, cookie, EINVAL, "unsupported flags " + flags + " on a write");
            } else if (!inside(offset, length)) {
                error(CMD_WRITE, cookie, ENOSPC, outside(offset, length));
            } else {
                try {
                    disk.write(data, offset);
                    if ((flags & CMD_FLAG_FUA) != 0) {
                        disk.flush();
                    }
                    bytesWritten += length;
                    ok(cookie);
                } catch (IOException | RuntimeException e) {
                    imageError(CMD_WRITE, cookie, e);
                }
            }
        }
    }

    private void flush(int flags, long cookie) throws IOException {
        if (flags != 0) {
            error(CMD_FLUSH, cookie, EINVAL, "unsupported flags " + flags + " on a flush");
            return;
        }
        try {
            disk.flush();
            ok(cookie);
        } catch (IOException | RuntimeException e) {
            imageError(CMD_FLUSH, cookie, e);
        }
    }

    /** Trimming is advisory in NBD; formats have no discard yet, so a valid trim is accepted and kept. */
    private void trim(int flags, long cookie, long offset, long length) throws IOException {
        if (!export.writable()) {
            error(CMD_TRIM, cookie, EPERM, "the export is read-only");
        } else if ((flags & ~CMD_FLAG_FUA) != 0) {
            error(CMD_TRIM, cookie, EINVAL, "unsupported flags " + flags + " on a trim");
        } else if (!inside(offset, length)) {
            error(CMD_TRIM, cookie, ENOSPC, outside(offset, length));
        } else {
            ok(cookie);
        }
    }

    private void writeZeroes(int flags, long cookie, long offset, long length) throws IOException {
        if (!export.writable()) {
            error(CMD_WRITE_ZEROES, cookie, EPERM, "the export is read-only");
        } else if ((flags & ~(CMD_FLAG_FUA | CMD_FLAG_NO_HOLE)) != 0) {
            error(CMD_WRITE_ZEROES, cookie, EINVAL, "unsupported flags " + flags + " on write-zeroes");
        } else if (!inside(offset, length)) {
            error(CMD_WRITE_ZEROES, cookie, ENOSPC, outside(offset, length));
        } else {
            if (zeros == null) {
                zeros = ByteBuffer.allocateDirect(ZEROS_SIZE);
            }
            try {
                for (long done = 0; done < length; ) {
                    int n = (int) Math.min(ZEROS_SIZE, length - done);
                    disk.write(zeros.clear().limit(n), offset + done);
                    done += n;
                }
                if ((flags & CMD_FLAG_FUA) != 0) {
                    disk.flush();
                }
                ok(cookie);
            } catch (IOException | RuntimeException e) {
                imageError(CMD_WRITE_ZEROES, cookie, e);
            }
        }
    }

    private void blockStatus(int flags, long cookie, long offset, long length) throws IOException {
        if (!baseAllocation) {
            error(CMD_BLOCK_STATUS, cookie, EINVAL, "no metadata context was negotiated");
        } else if ((flags & ~CMD_FLAG_REQ_ONE) != 0) {
            error(CMD_BLOCK_STATUS, cookie, EINVAL, "unsupported flags " + flags + " on block status");
        } else if (length == 0 || !inside(offset, length)) {
            error(CMD_BLOCK_STATUS, cookie, EINVAL, outside(offset, length));
        } else {
            replies.reserve(BlockStatusReply.ROOM);
            int mark = replies.mark();
            try {
                blockStatus.send(cookie, offset, length, (flags & CMD_FLAG_REQ_ONE) != 0);
            } catch (IOException | RuntimeException e) {
                replies.reset(mark);
                imageError(CMD_BLOCK_STATUS, cookie, e);
            }
        }
    }

    private boolean inside(long offset, long length) {
        return offset >= 0 && offset <= size && length <= size - offset;
    }

    private String outside(long offset, long length) {
        return "request of " + length + " bytes at offset " + Long.toUnsignedString(offset)
                + " is outside the export (" + size + " bytes)";
    }

    private void ok(long cookie) throws IOException {
        replies.reserve(SIMPLE_REPLY_SIZE);
        replies.simple(cookie, 0);
    }

    /** A failure of the image, not of the client: the client gets EIO, the operator a log line. */
    private void imageError(int type, long cookie, Throwable e) throws IOException {
        String message = e instanceof IOException && e.getMessage() != null ? e.getMessage() : e.toString();
        log.accept("export '" + export.name() + "': " + message);
        error(type, cookie, EIO, message);
    }

    private void error(int type, long cookie, int errno, String message) throws IOException {
        replies.reserve(ERROR_REPLY_ROOM);
        if (structured && (type == CMD_READ || type == CMD_BLOCK_STATUS)) {
            replies.structuredError(cookie, errno, message);
        } else {
            replies.simple(cookie, errno);
        }
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
