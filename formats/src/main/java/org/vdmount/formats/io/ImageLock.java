package org.vdmount.formats.io;

import com.sun.jna.LastErrorException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.vdmount.formats.ImageException;

/**
 * The lock a user of an image file holds, on the bytes qemu's file-posix driver locks, so that
 * qemu and vdmount see each other: byte 100 + bit means "I use permission bit", byte 200 + bit
 * means "I let nobody else have it" (bits: 0 consistent read, 1 write, 3 resize). As in qemu
 * (block/file-posix.c), the bytes are locked first and checked after, so of two users opening at
 * once that exclude each other neither gets through, never both:
 *
 * <ul>
 *   <li>a {@link Use#READ reader} locks 100, 201 and 203 and checks that nobody forbids reading
 *       (200) and nobody writes or resizes (101, 103): what a read-only qemu locks on a qcow2 file
 *       (qemu-img convert, qemu-nbd -r, qemu-io -r, a read-only guest disk). Readers share;
 *       qemu-img info needs only 201 and 203 and shares too. qemu's raw driver reading a raw file
 *       locks only 100, letting writers in; vdmount does not, on any format: the disk it reads
 *       becomes a block device under a kernel file system, which an image changing underneath
 *       would corrupt in the page cache, as qemu's guest disks do not let writers in either.</li>
 *   <li>a {@link Use#WRITE writer} locks 100, 101, 103, 201 and 203 and checks 200, 201, 203 and
 *       101, 103: a writable qemu-io, qemu-nbd or qemu-system on a qcow2 file.</li>
 * </ul>
 *
 * <p>The locks are Linux open-file-description (OFD) locks, like qemu's, on a descriptor of their
 * own: unlike Java's {@code FileChannel.lock} (classic POSIX locks, which the kernel drops when the
 * process closes any descriptor of the file, such as the audit trail hashing the image), they last
 * until this lock is closed, and two opens in one process see each other as two processes would.
 * Linux x86_64 and aarch64 layout of {@code struct flock} (32 bytes).
 *
 * <p>A file system without OFD locks (some FUSE, 9p and NFS mounts answer EINVAL, ENOLCK,
 * EOPNOTSUPP) leaves the file unlocked, with one warning per process, as does a process that holds
 * more locks than its descriptor budget (see {@link #budget}): reading evidence on such a share
 * must still work. (qemu 7.2 fails there with "Failed to lock byte 100" until told locking=off.)
 */
public final class ImageLock implements Closeable {
    /** What the holder does with the file. */
    public enum Use {
        READ(List.of(PERM_BASE + READ_BIT, SHARED_BASE + WRITE_BIT, SHARED_BASE + RESIZE_BIT),
                List.of(SHARED_BASE + READ_BIT, PERM_BASE + WRITE_BIT, PERM_BASE + RESIZE_BIT)),
        WRITE(List.of(PERM_BASE + READ_BIT, PERM_BASE + WRITE_BIT, PERM_BASE + RESIZE_BIT,
                SHARED_BASE + WRITE_BIT, SHARED_BASE + RESIZE_BIT),
                List.of(PERM_BASE + WRITE_BIT, PERM_BASE + RESIZE_BIT,
                        SHARED_BASE + READ_BIT, SHARED_BASE + WRITE_BIT, SHARED_BASE + RESIZE_BIT));

        /**
         * The bytes this use locks, and those another user's lock on which excludes it (another
         * writer's first, so that one writer meeting another is told so).
         */
        private final List<Integer> locked;
        private final List<Integer> checked;

        Use(List<Integer> locked, List<Integer> checked) {
            this.locked = locked;
            this.checked = checked;
        }
    }

    /** struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid; 32 bytes. */
    private static final int FLOCK_BYTES = 32;
    private static final int FLOCK_TYPE = 0;
    private static final int FLOCK_WHENCE = 2;
    private static final int FLOCK_START = 8;
    private static final int FLOCK_LEN = 16;
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    static final int PERM_BASE = 100;
    static final int SHARED_BASE = 200;
    static final int READ_BIT = 0;
    static final int WRITE_BIT = 1;
    static final int RESIZE_BIT = 3;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int EACCES = 13;
    private static final int EMFILE = 24;
    private static final int RLIMIT_NOFILE = 7;

    /** A lock that holds nothing: locking was not asked for, or not possible here. */
    private static final ImageLock NONE = new ImageLock(-1);

    /** Locks held now by this process: each holds a descriptor. */
    private static final AtomicInteger HELD = new AtomicInteger();
    private static final AtomicBoolean WARNED_UNSUPPORTED = new AtomicBoolean();
    private static final AtomicBoolean WARNED_BUDGET = new AtomicBoolean();

    /** Why a lock could not be taken, other than another user holding it. */
    private static final class Unsupported extends Exception {
        private final int errno;

        Unsupported(int errno) {
            super(null, null, false, false);
            this.errno = errno;
        }
    }

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ImageLock(int fd) {
        this.fd = fd;
    }

    /** A lock that holds nothing, for a file opened without locking ({@code --force-share}). */
    public static ImageLock none() {
        return NONE;
    }

    /**
     * Locks {@code path} (called {@code name} in messages) for {@code use}, or fails with one line
     * naming the file and the process that holds it in a way that excludes this use. Where the file
     * system cannot lock, or a reader would go over the descriptor budget, warns once and returns
     * a lock that holds nothing.
     */
    public static ImageLock take(Path path, String name, Use use, Consumer<String> warnings) throws IOException {
        if (use == Use.READ && HELD.get() >= budget()) {
            if (WARNED_BUDGET.compareAndSet(false, true)) {
                warnings.accept(name + ": not locked against writers, nor are the files opened after it: this"
                        + " process already holds " + HELD.get() + " image locks, each a file descriptor, and its"
                        + " limit is " + maxDescriptors() + " (ulimit -n)");
            }
            return NONE;
        }
        int fd;
        try {
            fd = Libc.Calls.open(path.toString(), O_RDONLY | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new ImageException(name, "cannot open it to lock it: " + (e.getErrorCode() == EMFILE
                    ? "too many open files (ulimit -n)" : "errno " + e.getErrorCode()));
        }
        ImageLock lock = new ImageLock(fd);
        HELD.incrementAndGet();
        try {
            for (int offset : use.locked) {
                lock.set(offset, name);
            }
            for (int offset : use.checked) {
                if (lock.heldElsewhere(offset)) {
                    throw new ImageException(name, refusal(use, offset, LockHolders.describe(path, offset, fd)));
                }
            }
            return lock;
        } catch (Unsupported e) {
            lock.close();
            if (WARNED_UNSUPPORTED.compareAndSet(false, true)) {
                warnings.accept(name + ": its file system cannot lock files (errno " + e.errno + "): neither it"
                        + " nor other images there are locked against qemu or another vdmount");
            }
            return NONE;
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Why {@code use} cannot have the file, another user holding lock byte {@code offset}. */
    private static String refusal(Use use, int offset, String holder) {
        String why = switch (offset) {
            case PERM_BASE + WRITE_BIT -> "is being written by " + holder;
            case PERM_BASE + RESIZE_BIT -> "is open by " + holder + ", which may resize it";
            case SHARED_BASE + READ_BIT -> "is open by " + holder + ", which lets nobody else read it";
            default -> "is open by " + holder + ", which lets nobody else write it";
        };
        return why + (use == Use.READ
                ? ": stop it first, or read it anyway with --force-share (it may change while read)"
                : ": stop it first");
    }

    /**
     * The most locks this process holds for readers: a quarter of its descriptor limit, so that
     * the images' own descriptors (one per file, the lock one more) and everything else the
     * process opens stay well inside it. The JVM raises the soft limit to the hard one at start
     * (20000 to 1048576 on current systems: thousands of extents lock fine); a process kept at
     * 1024 locks 256 files and reads the rest unlocked, with a warning, instead of failing with
     * EMFILE. Writers always lock: two writers would corrupt the image.
     */
    static int budget() {
        return (int) Math.min(Integer.MAX_VALUE, maxDescriptors() / 4);
    }

    /** The soft limit of open files (RLIMIT_NOFILE), as the JVM left it; 1024 if it cannot be read. */
    private static long maxDescriptors() {
        long[] limits = new long[2]; // struct rlimit: soft, hard
        try {
            Libc.Calls.getrlimit(RLIMIT_NOFILE, limits);
            return limits[0] > 0 ? limits[0] : 1024;
        } catch (LastErrorException e) {
            return 1024;
        }
    }

    /** Whether another open file description holds a lock on byte {@code offset}. */
    private boolean heldElsewhere(int offset) throws ImageException, Unsupported {
        byte[] probe = flock(F_WRLCK, offset);
        try {
            fcntl(F_OFD_GETLK, probe);
        } catch (LastErrorException e) {
            throw new Unsupported(e.getErrorCode());
        }
        return ByteBuffer.wrap(probe).order(ByteOrder.nativeOrder()).getShort(FLOCK_TYPE) != F_UNLCK;
    }

    private void set(int offset, String name) throws ImageException, Unsupported {
        try {
            fcntl(F_OFD_SETLK, flock(F_RDLCK, offset));
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EAGAIN || e.getErrorCode() == EACCES) {
                // Only a write lock excludes a read lock, and nobody keeps one on these bytes.
                throw new ImageException(name, "is in use by another process (lock byte " + offset + " taken)");
            }
            throw new Unsupported(e.getErrorCode());
        }
    }

    private void fcntl(int cmd, byte[] lock) {
        while (true) {
            try {
                Libc.Calls.fcntl(fd, cmd, lock);
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw e;
                }
            }
        }
    }

    /** A struct flock on the one byte at {@code offset}, from the start of the file; l_pid 0. */
    private static byte[] flock(short type, int offset) {
        ByteBuffer lock = ByteBuffer.allocate(FLOCK_BYTES).order(ByteOrder.nativeOrder());
        lock.putShort(FLOCK_TYPE, type);
        lock.putShort(FLOCK_WHENCE, (short) 0); // SEEK_SET
        lock.putLong(FLOCK_START, offset);
        lock.putLong(FLOCK_LEN, 1);
        return lock.array();
    }

    @Override
    public void close() {
        if (fd < 0 || !closed.compareAndSet(false, true)) {
            return;
        }
        HELD.decrementAndGet();
        try {
            Libc.Calls.close(fd); // the kernel drops the OFD locks with their last descriptor
        } catch (LastErrorException e) {
            // nothing is left to release
        }
    }
}
