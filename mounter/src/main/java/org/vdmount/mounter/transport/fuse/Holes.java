package org.vdmount.mounter.transport.fuse;

import java.util.function.Predicate;
import org.vdmount.formats.Run;
import org.vdmount.mounter.gateway.RequestGateway;

/** Finds where data or holes start, walking the disk's map only as far as needed. */
final class Holes {
    /** Searched in steps so a huge disk's map is never walked much past the answer. */
    private static final long STEP = 1L << 30;
    private static final RequestGateway.StopMapping FOUND = new RequestGateway.StopMapping();

    /**
     * What a search found.
     *
     * @param offset where the first wanted run starts, or -1 when there is none
     * @param errno  0, or why the map could not be read
     */
    record Result(long offset, int errno) {
    }

    private Holes() {
    }

    /** The first run at or after {@code from} that {@code wanted} accepts. */
    static Result firstRun(RequestGateway gateway, long from, Predicate<Run> wanted) {
        long[] found = {-1};
        for (long pos = from; pos < gateway.size(); pos += STEP) {
            long length = Math.min(STEP, gateway.size() - pos);
            int errno = gateway.map(pos, length, run -> {
                if (wanted.test(run)) {
                    found[0] = run.offset();
                    throw FOUND;
                }
            });
            if (errno != 0) {
                return new Result(-1, errno);
            }
            if (found[0] >= 0) {
                return new Result(found[0], 0);
            }
        }
        return new Result(-1, 0);
    }
}
