package org.vdmount.mounter.nbd;

import static org.vdmount.mounter.nbd.NbdProtocol.*;

import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.mounter.gateway.RequestGateway;

/**
 * Answers NBD_CMD_BLOCK_STATUS for {@code base:allocation} from the image map: stretches allocated
 * nowhere in the chain are holes that read as zeros, zero clusters read as zeros but are allocated,
 * everything else is data. Adjacent runs of the same state are merged into one extent.
 */
final class BlockStatusReply implements RunSink {
    /** Room a reply may take; reserved by the caller beforehand. */
    static final int ROOM = CHUNK_HEADER_SIZE + 4 + 8 * MAX_EXTENTS;

    private static final RequestGateway.StopMapping ENOUGH = new RequestGateway.StopMapping();

    private final RequestGateway gateway;
    private final Replies replies;

    private boolean onlyOne;
    private int extents;
    private int flags;
    private long start;
    private long end;

    BlockStatusReply(RequestGateway gateway, Replies replies) {
        this.gateway = gateway;
        this.replies = replies;
    }

    /** Builds the reply; returns 0, or the errno of a failed map (what was built is then void). */
    int send(long cookie, long offset, long length, boolean onlyOne) {
        this.onlyOne = onlyOne;
        extents = 0;
        start = end = offset;
        int chunk = replies.chunk(REPLY_TYPE_BLOCK_STATUS, cookie, 0);
        replies.putInt(BASE_ALLOCATION_ID);
        int errno = gateway.map(offset, length, this);
        if (errno != 0) {
            return errno;
        }
        if (extents < MAX_EXTENTS && !(onlyOne && extents == 1)) {
            emit();
        }
        replies.finishChunk(chunk);
        replies.done();
        return 0;
    }

    @Override
    public void accept(Run run) {
        int state = switch (run.kind()) {
            case UNALLOCATED -> STATE_HOLE | STATE_ZERO;
            case ZERO -> STATE_ZERO;
            default -> 0;
        };
        if (end > start && state != flags) {
            emit();
            if (onlyOne || extents == MAX_EXTENTS) {
                // The reply is as long as it may be; the client asks again for the rest.
                throw ENOUGH;
            }
        }
        if (end == start) {
            start = run.offset();
            flags = state;
        }
        end = run.end();
    }

    private void emit() {
        if (end == start) {
            return;
        }
        replies.putInt((int) (end - start));
        replies.putInt(flags);
        start = end;
        extents++;
    }
}
