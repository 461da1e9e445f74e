package org.vdmount.mounter.transport;

import com.sun.jna.LastErrorException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.vdmount.mounter.jna.LibC;

/**
 * What a process serving a kernel block device owes the kernel, so that memory pressure cannot make
 * it wait for its own device: its serving threads are I/O flushers (their allocations never start
 * writeback, which could need the device they serve), and its memory is locked (a page it needs
 * could otherwise be paged out to, or need reading back from, that device). Both need privileges
 * the server has as root; without them it still serves, and says so once.
 */
public final class ServerThreads {
    private static final AtomicBoolean LOCKED = new AtomicBoolean();
    private static final AtomicBoolean FLUSHER_WARNED = new AtomicBoolean();

    private ServerThreads() {
    }

    /** PR_SET_IO_FLUSHER for the calling thread (it is per thread). */
    public static void becomeIoFlusher(Consumer<String> log) {
        try {
            LibC.INSTANCE.prctl(LibC.PR_SET_IO_FLUSHER, 1, 0, 0, 0);
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            if (FLUSHER_WARNED.compareAndSet(false, true)) {
                log.accept("cannot make the server threads I/O flushers (PR_SET_IO_FLUSHER): " + e.getMessage()
                        + "; under memory pressure the device may stall");
            }
        }
    }

    /**
     * Locks the process's memory, now and as it grows (pages are locked as they are first touched,
     * MCL_ONFAULT, so the JVM's reserved but unused address space costs nothing). Once per process.
     */
    public static void lockMemory(Consumer<String> log) {
        if (!LOCKED.compareAndSet(false, true)) {
            return;
        }
        try {
            LibC.INSTANCE.mlockall(LibC.MCL_CURRENT | LibC.MCL_FUTURE | LibC.MCL_ONFAULT);
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            log.accept("cannot lock the server's memory (mlockall): " + e.getMessage()
                    + "; under memory pressure the device may stall");
        }
    }
}
