package org.vdmount.formats.io;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.vdmount.formats.ImageException;

/**
 * The lock a writer holds on an image file, on the bytes qemu's file-posix driver locks, so that
 * qemu and vdmount see each other: byte 100 + bit means "I use permission bit", byte 200 + bit
 * means "I let nobody else have it" (bits: 0 consistent read, 1 write, 3 resize). A writer takes
 * 100, 101, 103, 201 and 203, as a writable qemu-io or qemu-nbd does, after checking that nobody
 * uses write or resize (101, 103) and nobody forbids them (201, 203).
 *
 * <p>The locks are Linux open-file-description (OFD) locks, like qemu's, on a descriptor of their
 * own: unlike Java's {@code FileChannel.lock} (classic POSIX locks, which the kernel drops when the
 * process closes any descriptor of the file, such as the audit trail hashing the image), they last
 * until this lock is closed. Linux x86_64 and aarch64 layouts ({@code struct flock}, 32 bytes).
 */
public final class ImageLock implements Closeable {
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int PERM_BASE = 100;
    private static final int SHARED_BASE = 200;
    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int RESIZE = 3;

    /** What libc offers this class. */
    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int open(String path, int flags) throws LastErrorException;

        int fcntl(int fd, int cmd, Flock lock) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    /** {@code struct flock}. */
    @Structure.FieldOrder({"l_type", "l_whence", "l_start", "l_len", "l_pid"})
    public static final class Flock extends Structure {
        public short l_type;
        public short l_whence;
        public long l_start;
        public long l_len;
        public int l_pid;
    }

    private final int fd;

    private ImageLock(int fd) {
        this.fd = fd;
    }

    /** Locks {@code path} for writing, or fails with one line naming the file when another process uses it. */
    public static ImageLock forWriting(Path path, String name) throws IOException {
        int fd;
        try {
            fd = LibC.INSTANCE.open(path.toString(), O_RDONLY | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new ImageException(name, "cannot open to lock it: errno " + e.getErrorCode());
        }
        ImageLock lock = new ImageLock(fd);
        try {
            for (int bit : List.of(WRITE, RESIZE)) {
                if (lock.heldElsewhere(PERM_BASE + bit) || lock.heldElsewhere(SHARED_BASE + bit)) {
                    throw new ImageException(name, "is in use by another process (qemu or vdmount) that "
                            + (lock.heldElsewhere(PERM_BASE + bit) ? "writes it" : "does not allow writers")
                            + "; stop it first");
                }
            }
            for (int offset : List.of(PERM_BASE + READ, PERM_BASE + WRITE, PERM_BASE + RESIZE,
                    SHARED_BASE + WRITE, SHARED_BASE + RESIZE)) {
                lock.set(offset, F_RDLCK, name);
            }
            return lock;
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Whether another open file description holds a lock on byte {@code offset}. */
    private boolean heldElsewhere(int offset) throws ImageException {
        Flock probe = flock(F_WRLCK, offset);
        try {
            LibC.INSTANCE.fcntl(fd, F_OFD_GETLK, probe);
        } catch (LastErrorException e) {
            throw new ImageException("lock", "fcntl(F_OFD_GETLK) failed: errno " + e.getErrorCode());
        }
        probe.read();
        return probe.l_type != F_UNLCK;
    }

    private void set(int offset, short type, String name) throws ImageException {
        try {
            LibC.INSTANCE.fcntl(fd, F_OFD_SETLK, flock(type, offset));
        } catch (LastErrorException e) {
            throw new ImageException(name, "is in use by another process (lock byte " + offset + " taken)");
        }
    }

    private static Flock flock(short type, int offset) {
        Flock lock = new Flock();
        lock.l_type = type;
        lock.l_whence = 0;
        lock.l_start = offset;
        lock.l_len = 1;
        lock.l_pid = 0;
        lock.write();
        return lock;
    }

    @Override
    public void close() {
        try {
            LibC.INSTANCE.close(fd); // the kernel drops the OFD locks with their last descriptor
        } catch (LastErrorException e) {
            // nothing is left to release
        }
    }
}
