package org.vdmount.mounter.read;

import com.sun.jna.LastErrorException;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.vdmount.formats.io.Allocation;
import org.vdmount.mounter.jna.LibC;

/**
 * Which stretches of which files are stored with no hole, for {@code cat -o}'s kernel copies: a
 * stretch with a hole goes through a buffer instead, so that the hole stays a hole in the copy.
 * <ul>
 * <li>First stat(1) is asked once per file for its size and the space it takes. A file whose holes
 * add up to at most {@link #SLACK} counts as stored in full: image files written by qemu-img have a
 * few small holes between their tables, and copying those as zeros changes no byte of the copy,
 * only its allocation by as much. Most images end here, without loading any native code (JNA
 * unpacks and loads its library, 0.1-0.3 s of a short copy).</li>
 * <li>A sparse file (a raw disk with holes, a fixed VHDX that qemu-img wrote with its payload after
 * a hole) is asked per stretch, with lseek's SEEK_HOLE: its stored stretches are still copied by
 * the kernel, only those with a hole go through the buffer.</li>
 * </ul>
 * Anything that cannot be asked counts as having holes: the buffer copy is always right.
 */
final class FileHoles implements Allocation, Closeable {
    static final long SLACK = 16L << 20;
    /** In {@link #sparse}: stored in full (no descriptor needed), or unknown (no kernel copy). */
    private static final int FULL = -2;
    private static final int UNKNOWN = -1;

    /** A sparse file's descriptor for lseek, or -1 when the file is stored in full or unusable. */
    private final Map<Path, Integer> sparse = new HashMap<>();

    @Override
    public synchronized boolean allocated(Path file, long from, long to) {
        int fd = sparse.computeIfAbsent(file, FileHoles::sparseDescriptor);
        if (fd == FULL) {
            return true;
        }
        return fd >= 0 && Seek.noHole(fd, from, to);
    }

    @Override
    public synchronized void close() {
        for (int fd : sparse.values()) {
            if (fd >= 0) {
                Seek.close(fd);
            }
        }
        sparse.clear();
    }

    private static int sparseDescriptor(Path file) {
        Boolean full = fullyStored(file);
        if (full == null) {
            return UNKNOWN;
        }
        return full ? FULL : Seek.open(file);
    }

    /** Whether stat says the file is stored (nearly) in full; null when stat cannot tell. */
    private static Boolean fullyStored(Path file) {
        try {
            Process stat = new ProcessBuilder("stat", "-L", "-c", "%s %b %B", "--", file.toString())
                    .redirectErrorStream(true).start();
            String[] f = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split(" ");
            if (!stat.waitFor(10, TimeUnit.SECONDS) || stat.exitValue() != 0 || f.length != 3) {
                return null;
            }
            return Long.parseLong(f[1]) * Long.parseLong(f[2]) + SLACK >= Long.parseLong(f[0]);
        } catch (java.io.IOException | NumberFormatException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * lseek(2) through {@link LibC}, whose JNA library loads only when a sparse file is met: the
     * constants are compile-time ones, and nothing else here touches {@code LibC.INSTANCE}.
     */
    private static final class Seek {
        static int open(Path file) {
            try {
                return LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
            } catch (LastErrorException | UnsatisfiedLinkError e) {
                return UNKNOWN;
            }
        }

        /** Whether {@code [from, to)} has no hole: the first hole at or after {@code from} is at or past {@code to}. */
        static boolean noHole(int fd, long from, long to) {
            try {
                return LibC.INSTANCE.lseek(fd, from, LibC.SEEK_HOLE) >= to;
            } catch (LastErrorException e) {
                return false; // ENXIO past the end, EINVAL where SEEK_HOLE is unsupported
            }
        }

        static void close(int fd) {
            try {
                LibC.INSTANCE.close(fd);
            } catch (LastErrorException e) {
                // nothing was written through it
            }
        }
    }
}
