package org.vdmount.mounter.serve.nbd;

import static org.vdmount.mounter.serve.nbd.NbdProtocol.*;

import java.io.IOException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.VirtualDisk;

/**
 * Answers NBD_CMD_BLOCK_STATUS for {@code base:allocation} from the image map: stretches allocated
 * nowhere in the chain are holes that read as zeros, zero clusters read as zeros but are allocated,
 * everything else is data. Adjacent runs of the same state are merged into one extent.
 */
final class BlockStatusReply implements RunSink {
    /** Cap on extents per reply (like qemu's), so a tiny-cluster image cannot blow a reply up. */
    static final int MAX_EXTENTS = 16 * 1024;
    /** Room a reply may take; reserved by the caller beforehand. */
    static final int ROOM = CHUNK_HEADER_SIZE + 4 + 8 * MAX_EXTENTS;

    /** Thrown through {@link VirtualDisk#map} to stop mapping once the reply is full. */
    private static final class Enough extends RuntimeException {
        Enough() {
            super(null, null, false, false);
        }
    }

    private static final Enough ENOUGH = new Enough();

    private final VirtualDisk disk;
    private final Replies replies;

    private boolean onlyOne;
    private int extents;
    private int flags;
    private long start;
    private long end;

    BlockStatusReply(VirtualDisk disk, Replies replies) {
        this.disk = disk;
        this.replies = replies;
    }

    void send(long cookie, long offset, long length, boolean onlyOne) throws IOException {
        this.onlyOne = onlyOne;
        extents = 0;
        start = end = offset;
        int chunk = replies.chunk(REPLY_TYPE_BLOCK_STATUS, cookie, 0);
        replies.putInt(BASE_ALLOCATION_ID);
        try {
            disk.map(offset, length, this);
            emit();
        } catch (Enough e) {
            // The reply is as long as it may be; the client asks again for the rest.
        }
        replies.finishChunk(chunk);
        replies.done();
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
        if (onlyOne || extents == MAX_EXTENTS) {
            throw ENOUGH;
        }
    }
}
