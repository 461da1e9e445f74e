package org.vdmount.formats.io;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The libc calls the format layer needs and Java does not offer: open-file-description locks
 * ({@link ImageLock}), the open-file limit, and the space a file takes ({@link FileSpace}). LP64
 * Linux (x86_64, aarch64).
 *
 * <p>Loading JNA is the dearest step of a short command such as {@code info}: JNA loads its native
 * library and, on Linux, runs {@code ldconfig -p} on first use (20-30 ms together). So the binding
 * loads on first use, and {@link #preloadInBackground} lets a command start it on another thread
 * while it parses its arguments. The calls are JNA's direct mapping (static natives bound once):
 * an interface mapping would build a dynamic proxy and method handles on the first call, and
 * {@code struct}s are plain byte arrays for the same reason (15-20 ms more of a short command).
 */
public final class Libc {
    private Libc() {
    }

    /** The bound calls: the class initialiser binds them, so they load on first use. */
    static final class Calls {
        static {
            Native.register("c");
        }

        private Calls() {
        }

        static native int open(String path, int flags) throws LastErrorException;

        /** {@code lock} is a struct flock ({@link ImageLock}). */
        static native int fcntl(int fd, int cmd, byte[] lock) throws LastErrorException;

        static native int close(int fd) throws LastErrorException;

        /** {@code limits} receives struct rlimit: soft, hard. */
        static native int getrlimit(int resource, long[] limits) throws LastErrorException;
    }

    /** statx(2), bound apart: a libc older than glibc 2.28 lacks it, and the locks must still bind. */
    static final class Statx {
        static {
            Native.register("c");
        }

        private Statx() {
        }

        /** {@code buffer} receives struct statx (256 bytes). */
        static native int statx(int dirfd, String path, int flags, int mask, byte[] buffer) throws LastErrorException;
    }

    /**
     * Binds the calls on a daemon thread now. The first real call waits for it (the JVM's class
     * initialisation is the lock); a failure here is left for that call to report.
     */
    public static void preloadInBackground() {
        Thread loader = new Thread(() -> {
            try {
                Class.forName(Calls.class.getName(), true, Libc.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // the first call meets the same error and reports it
            }
        }, "libc-preload");
        loader.setDaemon(true);
        loader.start();
    }
}
