package org.vdmount.mounter.transport.fuse;

import java.io.IOException;
import java.util.function.Predicate;
import org.vdmount.formats.Run;
import org.vdmount.formats.VirtualDisk;

/** Finds where data or holes start, walking the disk's map only as far as needed. */
final class Holes {
    /** Map walks are cut short by throwing this; it carries no stack, so it is cheap to share. */
    private static final class Found extends RuntimeException {
        final long offset;

        Found(long offset) {
            super(null, null, false, false);
            this.offset = offset;
        }
    }

    /** Searched in steps so a huge disk's map is never walked much past the answer. */
    private static final long STEP = 1L << 30;

    private Holes() {
    }

    /** The offset of the first run at or after {@code from} that {@code wanted} accepts, or -1. */
    static long firstRun(VirtualDisk disk, long from, Predicate<Run> wanted) throws IOException {
        for (long pos = from; pos < disk.size(); pos += STEP) {
            long length = Math.min(STEP, disk.size() - pos);
            try {
                disk.map(pos, length, run -> {
                    if (wanted.test(run)) {
                        throw new Found(run.offset());
                    }
                });
            } catch (Found f) {
                return f.offset;
            }
        }
        return -1;
    }
}
