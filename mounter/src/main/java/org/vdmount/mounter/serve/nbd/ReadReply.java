package org.vdmount.mounter.serve.nbd;

import static org.vdmount.mounter.serve.nbd.NbdProtocol.*;

import java.io.IOException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * Answers reads. With structured replies, stretches the image map says are zeros go out as
 * OFFSET_HOLE chunks (a dozen bytes instead of megabytes of zeros, and the client learns it may
 * skip them); the rest is read straight into the reply buffer as OFFSET_DATA chunks.
 */
final class ReadReply implements RunSink {
    /** Zero stretches shorter than this travel as data: a chunk header would cost more than it saves. */
    static final int MIN_HOLE = 4096;
    /** Headroom a structured read needs above its data (chunks only ever replace bytes by less). */
    private static final int CHUNK_OVERHEAD = 64; // >= SIMPLE_REPLY_SIZE too

    private final VirtualDisk disk;
    private final Replies replies;

    // The read being answered; data and zeros not yet sent, data always before zeros.
    private long cookie;
    private long dataStart;
    private long dataEnd;
    private long zeroStart;
    private long zeroEnd;

    ReadReply(VirtualDisk disk, Replies replies) {
        this.disk = disk;
        this.replies = replies;
    }

    /** Room a reply to a read of {@code length} bytes may take; reserved by the caller beforehand. */
    static int room(int length) {
        return length + CHUNK_OVERHEAD;
    }

    void simple(long cookie, long offset, int length) throws IOException {
        replies.simple(cookie, 0);
        disk.read(replies.take(length), offset);
    }

    void structured(long cookie, long offset, int length, boolean dontFragment) throws IOException {
        if (length == 0) {
            replies.chunk(REPLY_TYPE_NONE, cookie, 0);
        } else if (dontFragment || length < 2 * MIN_HOLE) {
            dataChunk(cookie, offset, length);
        } else {
            this.cookie = cookie;
            dataStart = dataEnd = zeroStart = zeroEnd = offset;
            disk.map(offset, length, this);
            sendPending(true);
        }
        replies.done();
    }

    @Override
    public void accept(Run run) throws IOException {
        if (run.kind().readsAsZero()) {
            if (zeroEnd == zeroStart) {
                zeroStart = run.offset();
            }
            zeroEnd = run.end();
        } else {
            sendPending(false);
            dataEnd = run.end();
        }
    }

    /**
     * Sends what is pending before a new data run (or at the end): a long zero stretch becomes a hole
     * after the data before it; a short one joins that data. Data at the end is sent too.
     */
    private void sendPending(boolean last) throws IOException {
        if (zeroEnd - zeroStart >= MIN_HOLE) {
            if (dataEnd > dataStart) {
                dataChunk(cookie, dataStart, (int) (dataEnd - dataStart));
            }
            replies.chunk(REPLY_TYPE_OFFSET_HOLE, cookie, 12);
            replies.putLong(zeroStart);
            replies.putInt((int) (zeroEnd - zeroStart));
            dataStart = dataEnd = zeroEnd;
        } else {
            dataEnd = Math.max(dataEnd, zeroEnd);
        }
        zeroStart = zeroEnd = dataEnd;
        if (last && dataEnd > dataStart) {
            dataChunk(cookie, dataStart, (int) (dataEnd - dataStart));
        }
    }

    private void dataChunk(long cookie, long offset, int length) throws IOException {
        replies.chunk(REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
        replies.putLong(offset);
        disk.read(replies.take(length), offset);
    }
}
