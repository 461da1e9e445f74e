package org.vdmount.mounter.nbd;

import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.util.Arrays;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.mounter.gateway.RequestGateway;

/**
 * Answers reads. With structured replies, stretches the image map says are zeros go out as
 * OFFSET_HOLE chunks (a dozen bytes instead of megabytes of zeros, and the client learns it may
 * skip them); the rest is read straight into the reply buffer as OFFSET_DATA chunks. The map is
 * taken first and the data read after, both through the gateway, so a failure of either is one
 * errno for the whole read.
 */
final class ReadReply implements RunSink {
    /** Zero stretches shorter than this travel as data: a chunk header would cost more than it saves. */
    static final int MIN_HOLE = 4096;
    /** Headroom a structured read needs above its data (chunks only ever replace bytes by less). */
    private static final int CHUNK_OVERHEAD = 64; // >= SIMPLE_REPLY_SIZE too

    private final RequestGateway gateway;
    private final Replies replies;

    // The read being mapped: data and zeros not yet made pieces, data always before zeros.
    private long dataStart;
    private long dataEnd;
    private long zeroStart;
    private long zeroEnd;
    // Its pieces, in order: piece i is [starts[i], ends[i]), a hole when holes[i]. At most one data
    // piece per hole and holes are at least MIN_HOLE long, so a read has at most 2 * 32 MiB / 4 KiB + 1.
    private long[] starts = new long[64];
    private long[] ends = new long[64];
    private boolean[] holes = new boolean[64];
    private int pieces;

    ReadReply(RequestGateway gateway, Replies replies) {
        this.gateway = gateway;
        this.replies = replies;
    }

    /** Room a reply to a read of {@code length} bytes may take; reserved by the caller beforehand. */
    static int room(int length) {
        return length + CHUNK_OVERHEAD;
    }

    /** A simple reply: header and data; returns 0 or the errno of a failed read (the reply is then void). */
    int simple(long cookie, long offset, int length) {
        replies.simple(cookie, 0);
        return gateway.read(replies.take(length), offset);
    }

    /** A structured reply; returns 0 or the errno of a failure (what was built is then void). */
    int structured(long cookie, long offset, int length, boolean dontFragment) {
        if (length == 0) {
            replies.chunk(REPLY_TYPE_NONE, cookie, 0);
        } else if (dontFragment || length < 2 * MIN_HOLE) {
            int errno = dataChunk(cookie, offset, length);
            if (errno != 0) {
                return errno;
            }
        } else {
            pieces = 0;
            dataStart = dataEnd = zeroStart = zeroEnd = offset;
            int errno = gateway.map(offset, length, this);
            if (errno != 0) {
                return errno;
            }
            endPiece(true);
            for (int i = 0; i < pieces; i++) {
                int n = (int) (ends[i] - starts[i]);
                if (holes[i]) {
                    replies.chunk(REPLY_TYPE_OFFSET_HOLE, cookie, 12);
                    replies.putLong(starts[i]);
                    replies.putInt(n);
                } else if ((errno = dataChunk(cookie, starts[i], n)) != 0) {
                    return errno;
                }
            }
        }
        replies.done();
        return 0;
    }

    @Override
    public void accept(Run run) {
        if (run.kind().readsAsZero()) {
            if (zeroEnd == zeroStart) {
                zeroStart = run.offset();
            }
            zeroEnd = run.end();
        } else {
            endPiece(false);
            dataEnd = run.end();
        }
    }

    /**
     * Ends what is pending before a new data run (or at the end): a long zero stretch becomes a hole
     * after the data before it; a short one joins that data. Data at the end is a piece too.
     */
    private void endPiece(boolean last) {
        if (zeroEnd - zeroStart >= MIN_HOLE) {
            if (dataEnd > dataStart) {
                piece(dataStart, dataEnd, false);
            }
            piece(zeroStart, zeroEnd, true);
            dataStart = dataEnd = zeroEnd;
        } else {
            dataEnd = Math.max(dataEnd, zeroEnd);
        }
        zeroStart = zeroEnd = dataEnd;
        if (last && dataEnd > dataStart) {
            piece(dataStart, dataEnd, false);
        }
    }

    private void piece(long start, long end, boolean hole) {
        if (pieces == starts.length) {
            starts = Arrays.copyOf(starts, 2 * pieces);
            ends = Arrays.copyOf(ends, 2 * pieces);
            holes = Arrays.copyOf(holes, 2 * pieces);
        }
        starts[pieces] = start;
        ends[pieces] = end;
        holes[pieces] = hole;
        pieces++;
    }

    private int dataChunk(long cookie, long offset, int length) {
        replies.chunk(REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
        replies.putLong(offset);
        return gateway.read(replies.take(length), offset);
    }
}
