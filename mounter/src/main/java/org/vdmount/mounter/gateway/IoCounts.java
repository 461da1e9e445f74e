package org.vdmount.mounter.gateway;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes read and written by requests that succeeded, counted where every transport's requests pass
 * ({@link RequestGateway}), for the audit trail's record of what an attachment or a serve did.
 *
 * <p>The counts are the process's: every gateway adds to {@link #process()}. That is exactly one
 * attachment's (or one {@code vdmount serve}'s) traffic, because each attachment has a server
 * process of its own and serve serves in its own process, and it spares handing a counter through
 * every transport. Only bytes that reached the server count: what the kernel's page cache answered
 * never left the kernel. A byte read through a partition device counts once, as a read of the disk.
 */
public final class IoCounts {
    private static final IoCounts PROCESS = new IoCounts();

    private final LongAdder read = new LongAdder();
    private final LongAdder written = new LongAdder();

    IoCounts() {
    }

    /** This process's counts, which every gateway adds to. */
    public static IoCounts process() {
        return PROCESS;
    }

    void read(long bytes) {
        read.add(bytes);
    }

    void written(long bytes) {
        written.add(bytes);
    }

    public long bytesRead() {
        return read.sum();
    }

    /** Bytes written, zeroed (write-zeroes) or discarded (trim). */
    public long bytesWritten() {
        return written.sum();
    }
}
