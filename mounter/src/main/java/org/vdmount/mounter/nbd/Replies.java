package org.vdmount.mounter.nbd;

import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The reply side of one connection: replies are built in one reused direct buffer and sent when the
 * client has no further request waiting, so a queue of small reads costs one write, and data is read
 * from the image straight into the place it is sent from.
 */
final class Replies {
    private static final int INITIAL_CAPACITY = 256 * 1024;
    /** The largest reply: a full-size read plus its chunk headers. */
    private static final int MAX_CAPACITY = MAX_PAYLOAD + 64 * 1024;

    private final ByteChannel channel;
    private ByteBuffer out = ByteBuffer.allocateDirect(INITIAL_CAPACITY);
    /** A second view of {@link #out}, handed out by {@link #take} so that no view is made per read. */
    private ByteBuffer view = out.duplicate();
    private int lastChunk = -1;

    Replies(ByteChannel channel) {
        this.channel = channel;
    }

    /** Makes room for a reply of up to {@code bytes}, sending what is queued if needed. */
    void reserve(int bytes) throws IOException {
        if (out.remaining() >= bytes) {
            return;
        }
        flush();
        if (out.capacity() < bytes) {
            if (bytes > MAX_CAPACITY) {
                throw new IllegalArgumentException("reply of " + bytes + " bytes");
            }
            int capacity = (int) Math.min(MAX_CAPACITY, Math.max(bytes, 2L * out.capacity()));
            out = ByteBuffer.allocateDirect(capacity);
            view = out.duplicate();
        }
    }

    void flush() throws IOException {
        if (out.position() > 0) {
            out.flip();
            Wire.writeFully(channel, out);
            out.clear();
        }
    }

    /** Where the reply being built starts, to undo it if building fails half way. */
    int mark() {
        return out.position();
    }

    void reset(int mark) {
        out.position(mark);
        lastChunk = -1;
    }

    void simple(long cookie, int error) {
        out.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    /** Starts a chunk whose length is known; returns where its header is, for {@link #finishChunk}. */
    int chunk(int type, long cookie, int length) {
        lastChunk = out.position();
        out.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) 0).putShort((short) type).putLong(cookie).putInt(length);
        return lastChunk;
    }

    /** Sets a chunk's length once its payload is written. */
    void finishChunk(int at) {
        out.putInt(at + 16, out.position() - at - CHUNK_HEADER_SIZE);
    }

    /** Marks the most recent chunk as the last of its reply. */
    void done() {
        out.putShort(lastChunk + 4, (short) REPLY_FLAG_DONE);
        lastChunk = -1;
    }

    void putInt(int value) {
        out.putInt(value);
    }

    void putLong(long value) {
        out.putLong(value);
    }

    /**
     * The next {@code length} bytes of the reply, to be filled by the caller before the next call;
     * the reply moves past them.
     */
    ByteBuffer take(int length) {
        int at = out.position();
        view.clear().position(at).limit(at + length);
        out.position(at + length);
        return view;
    }

    /** An error for a command with a structured reply: one ERROR chunk that ends it. */
    void structuredError(long cookie, int error, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, 1024);
        chunk(REPLY_TYPE_ERROR, cookie, 6 + length);
        out.putInt(error).putShort((short) length).put(text, 0, length);
        done();
    }
}
