package org.vdmount.mounter.read;

import com.sun.jna.LastErrorException;
import java.io.Closeable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.vdmount.formats.io.Allocation;
import org.vdmount.formats.io.FileSpace;
import org.vdmount.mounter.jna.LibC;

/**
 * Which stretches of which files are stored with no hole, for {@code cat -o}'s kernel copies: a
 * stretch with a hole goes through a buffer instead, so that the hole stays a hole in the copy.
 * <ul>
 * <li>First each file's size and the space it takes are asked once ({@link FileSpace}). A file
 * whose holes add up to at most {@link #SLACK} counts as stored in full: image files written by
 * qemu-img have a few small holes between their tables, and copying those as zeros changes no byte
 * of the copy, only its allocation by as much. Most images end here.</li>
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

    /** Whether the file is stored (nearly) in full; null when that cannot be asked. */
    private static Boolean fullyStored(Path file) {
        FileSpace.Usage usage = FileSpace.of(file);
        return usage == null ? null : usage.allocated() + SLACK >= usage.size();
    }

    /** lseek(2) through {@link LibC}, whose binding loads only when a sparse file is met. */
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
