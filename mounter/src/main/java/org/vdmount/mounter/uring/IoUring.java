package org.vdmount.mounter.uring;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.Closeable;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.mounter.jna.HotCalls;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.system.Errno;

/**
 * One io_uring, spoken to through the raw system calls and its shared-memory rings: submission
 * entries are written into the mapped entry array and published by moving the submission tail;
 * completions are read from the completion ring and released by moving its head.
 *
 * <p>The rings are shared with the kernel, which reads and writes them concurrently, so the order of
 * memory accesses matters as it does in liburing: the submission tail is stored with release
 * semantics (the kernel must see the entries before the tail that publishes them), the completion
 * tail is loaded with acquire semantics (the entries must be read after the tail that announced
 * them), and the completion head is stored with release semantics (the kernel may reuse a slot only
 * after we are done reading it). Java's VarHandle views of a direct buffer give exactly these.
 *
 * <p>Not thread safe: a ring belongs to the one thread that submits to it and reaps it (ublk even
 * requires that each queue's commands come from one thread).
 */
public final class IoUring implements Closeable {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final long MAP_FAILED = -1L;

    private final int fd;
    private final int features;
    private final int sqeSize;
    private final Pointer ringMap;
    private final long ringMapSize;
    private final Pointer cqMap;
    private final long cqMapSize;
    private final Pointer sqeMap;
    private final long sqeMapSize;
    private final ByteBuffer sq;
    private final ByteBuffer cq;
    private final ByteBuffer sqes;
    private final int sqHead;
    private final int sqTail;
    private final int sqMask;
    private final int sqEntries;
    private final int cqHead;
    private final int cqTail;
    private final int cqMask;
    private final int cqEntries;
    private final int cqes;
    private final Memory waitArg = new Memory(IoUringAbi.GeteventsArg.SIZE);
    private final Memory timespec = new Memory(16);
    /** Entries prepared; those past the published tail are not yet the kernel's. */
    private int localSqTail;
    /** The completion head as we have advanced it: only we write it. */
    private int localCqHead;
    private boolean closed;

    private IoUring(int fd, Memory params, int sqeSize) throws IOException {
        this.fd = fd;
        this.sqeSize = sqeSize;
        ByteBuffer p = params.getByteBuffer(0, IoUringAbi.Params.SIZE).order(ByteOrder.nativeOrder());
        features = p.getInt(IoUringAbi.Params.FEATURES);
        int sqEntryCount = p.getInt(IoUringAbi.Params.SQ_ENTRIES);
        int cqEntryCount = p.getInt(IoUringAbi.Params.CQ_ENTRIES);
        int sqOff = IoUringAbi.Params.SQ_OFF;
        int cqOff = IoUringAbi.Params.CQ_OFF;
        int sqArray = p.getInt(sqOff + IoUringAbi.SqOffsets.ARRAY);
        long sqRingSize = sqArray + 4L * sqEntryCount;
        long cqRingSize = p.getInt(cqOff + IoUringAbi.CqOffsets.CQES) + (long) IoUringAbi.Cqe.SIZE * cqEntryCount;
        boolean single = (features & IoUringAbi.FEAT_SINGLE_MMAP) != 0;
        Pointer ring = null;
        Pointer cqRing = null;
        Pointer entries = null;
        try {
            ringMapSize = single ? Math.max(sqRingSize, cqRingSize) : sqRingSize;
            ring = map(fd, ringMapSize, IoUringAbi.OFF_SQ_RING);
            if (single) {
                cqRing = ring;
                cqMapSize = 0;
            } else {
                cqMapSize = cqRingSize;
                cqRing = map(fd, cqMapSize, IoUringAbi.OFF_CQ_RING);
            }
            sqeMapSize = (long) sqeSize * sqEntryCount;
            entries = map(fd, sqeMapSize, IoUringAbi.OFF_SQES);
        } catch (IOException e) {
            unmapQuietly(entries, (long) sqeSize * sqEntryCount);
            if (cqRing != ring) {
                unmapQuietly(cqRing, cqRingSize);
            }
            unmapQuietly(ring, single ? Math.max(sqRingSize, cqRingSize) : sqRingSize);
            throw e;
        }
        ringMap = ring;
        cqMap = cqRing;
        sqeMap = entries;
        sq = ring.getByteBuffer(0, ringMapSize).order(ByteOrder.nativeOrder());
        cq = single ? sq : cqRing.getByteBuffer(0, cqMapSize).order(ByteOrder.nativeOrder());
        sqes = entries.getByteBuffer(0, sqeMapSize).order(ByteOrder.nativeOrder());
        sqHead = p.getInt(sqOff + IoUringAbi.SqOffsets.HEAD);
        sqTail = p.getInt(sqOff + IoUringAbi.SqOffsets.TAIL);
        sqMask = sq.getInt(p.getInt(sqOff + IoUringAbi.SqOffsets.RING_MASK));
        sqEntries = sq.getInt(p.getInt(sqOff + IoUringAbi.SqOffsets.RING_ENTRIES));
        cqHead = p.getInt(cqOff + IoUringAbi.CqOffsets.HEAD);
        cqTail = p.getInt(cqOff + IoUringAbi.CqOffsets.TAIL);
        cqMask = cq.getInt(p.getInt(cqOff + IoUringAbi.CqOffsets.RING_MASK));
        cqEntries = cq.getInt(p.getInt(cqOff + IoUringAbi.CqOffsets.RING_ENTRIES));
        cqes = p.getInt(cqOff + IoUringAbi.CqOffsets.CQES);
        // Submission slot i always names entry i: entries are used in ring order, so the indirection
        // array never needs to change again.
        for (int i = 0; i < sqEntries; i++) {
            sq.putInt(sqArray + 4 * i, i);
        }
        localSqTail = (int) INT.getAcquire(sq, sqTail);
        localCqHead = (int) INT.getAcquire(cq, cqHead);
        waitArg.clear();
        timespec.clear();
    }

    /** Completions that need not interrupt the thread, submission that goes on past a failed entry. */
    private static final int COMMON = IoUringAbi.SETUP_COOP_TASKRUN | IoUringAbi.SETUP_SUBMIT_ALL;

    /**
     * A ring of {@code entries} submission entries (the kernel rounds up to a power of two) and
     * twice as many completions. {@code flags} are IORING_SETUP_* the caller needs (SQE128); where
     * the kernel has them (5.19), completions that need not interrupt the thread (COOP_TASKRUN) and
     * submission that goes on past a failed entry (SUBMIT_ALL) are asked for too.
     */
    public static IoUring open(int entries, int flags) throws IOException {
        return open(entries, flags, COMMON);
    }

    /**
     * A ring for the one thread that makes it and is the only one to use it: beyond {@link #open},
     * its completion work is done when that thread waits for completions, in a batch, rather than
     * whenever the kernel would interrupt it (SINGLE_ISSUER and DEFER_TASKRUN, Linux 6.1).
     */
    public static IoUring openForThisThread(int entries, int flags) throws IOException {
        return open(entries, flags,
                COMMON | IoUringAbi.SETUP_SINGLE_ISSUER | IoUringAbi.SETUP_DEFER_TASKRUN, COMMON);
    }

    /** Tries {@code flags} with each of {@code preferred} in turn, then alone (older kernels say EINVAL). */
    private static IoUring open(int entries, int flags, int... preferred) throws IOException {
        for (int extra : preferred) {
            try {
                return setUp(entries, flags | extra);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINVAL) {
                    throw new IOException("cannot set up an io_uring: " + setupErrorText(e.getErrorCode()));
                }
            }
        }
        try {
            return setUp(entries, flags);
        } catch (LastErrorException e) {
            throw new IOException("cannot set up an io_uring: " + setupErrorText(e.getErrorCode()));
        }
    }

    /**
     * Registers {@code fds} with the ring: an entry then names one by its index, with
     * {@link IoUringAbi#SQE_FIXED_FILE}, and the kernel skips looking it up for every entry.
     */
    public void registerFiles(int... fds) throws IOException {
        try (Memory array = new Memory(4L * fds.length)) {
            for (int i = 0; i < fds.length; i++) {
                array.setInt(4L * i, fds[i]);
            }
            HotCalls.syscall(IoUringAbi.SYS_REGISTER, fd, IoUringAbi.REGISTER_FILES, Pointer.nativeValue(array),
                    fds.length, 0, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot register files with an io_uring: " + Errno.text(e.getErrorCode()));
        }
    }

    private static IoUring setUp(int entries, int flags) throws IOException {
        try (Memory params = new Memory(IoUringAbi.Params.SIZE)) {
            params.clear();
            params.setInt(IoUringAbi.Params.FLAGS, flags);
            int fd = (int) HotCalls.syscall(IoUringAbi.SYS_SETUP, entries, Pointer.nativeValue(params), 0, 0, 0, 0);
            try {
                return new IoUring(fd, params, (flags & IoUringAbi.SETUP_SQE128) != 0 ? 128 : 64);
            } catch (IOException | RuntimeException e) {
                LibC.INSTANCE.close(fd);
                throw e;
            }
        }
    }

    static String setupErrorText(int errno) {
        return switch (errno) {
            case Errno.ENOSYS -> "this kernel has no io_uring (Linux 5.1 or newer, built with CONFIG_IO_URING)";
            case Errno.EPERM -> "io_uring is disabled here (sysctl kernel.io_uring_disabled, or a seccomp filter)";
            case Errno.ENOMEM -> "out of memory (or of locked memory: ulimit -l)";
            case Errno.EMFILE -> "too many open files";
            default -> Errno.text(errno);
        };
    }

    private static Pointer map(int fd, long size, long offset) throws IOException {
        Pointer p;
        try {
            p = LibC.INSTANCE.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_POPULATE,
                    fd, offset);
        } catch (LastErrorException e) {
            throw new IOException("cannot map the io_uring rings: " + Errno.text(e.getErrorCode()));
        }
        if (p == null || Pointer.nativeValue(p) == MAP_FAILED) {
            throw new IOException("cannot map the io_uring rings");
        }
        return p;
    }

    private static void unmapQuietly(Pointer p, long size) {
        if (p != null) {
            try {
                LibC.INSTANCE.munmap(p, size);
            } catch (LastErrorException e) {
                // nothing more to do
            }
        }
    }

    /** The ring's descriptor. */
    public int fd() {
        return fd;
    }

    /** IORING_FEAT_* the kernel offers. */
    public int features() {
        return features;
    }

    /** Bytes per submission entry: 64, or 128 with SETUP_SQE128. */
    public int sqeSize() {
        return sqeSize;
    }

    /** Submission entries the ring has (at least what was asked for). */
    public int sqEntries() {
        return sqEntries;
    }

    /** The submission entries, to fill at the offsets {@link #prepare} returns. */
    public ByteBuffer sqes() {
        return sqes;
    }

    /**
     * Claims the next submission entry, cleared, and returns its byte offset in {@link #sqes}. It
     * goes to the kernel at the next {@link #submit}.
     *
     * @throws IllegalStateException when every entry is prepared or unsubmitted already
     */
    public int prepare() {
        int head = (int) INT.getAcquire(sq, sqHead);
        if (localSqTail - head >= sqEntries) {
            throw new IllegalStateException("io_uring submission queue full (" + sqEntries + " entries)");
        }
        int at = (localSqTail & sqMask) * sqeSize;
        localSqTail++;
        for (int i = 0; i < sqeSize; i += 8) {
            sqes.putLong(at + i, 0L);
        }
        return at;
    }

    /**
     * Publishes the prepared entries and submits them; with {@code minComplete} above 0, waits in
     * the same call until that many completions are ready. A signal that interrupts the wait only
     * makes it start again. Returns early, with entries left unsubmitted, only when the kernel
     * refuses more work until completions are reaped (EBUSY): they go with the next call.
     */
    public void submit(int minComplete) throws IOException {
        INT.setRelease(sq, sqTail, localSqTail);
        while (true) {
            int toSubmit = unsubmitted();
            boolean enough = ready() >= minComplete;
            if (toSubmit == 0 && enough) {
                return;
            }
            try {
                HotCalls.syscall(IoUringAbi.SYS_ENTER, fd, toSubmit, enough ? 0 : minComplete,
                        enough ? 0 : IoUringAbi.ENTER_GETEVENTS, 0, 0);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if ((errno == Errno.EBUSY || errno == Errno.EAGAIN) && ready() > 0) {
                    return;
                }
                if (errno != Errno.EINTR && errno != Errno.EAGAIN && errno != Errno.EBUSY) {
                    throw new IOException("io_uring_enter: " + Errno.text(errno));
                }
            }
        }
    }

    /**
     * Submits what is prepared and waits at most {@code timeoutMillis} for one completion; whether
     * one is ready. Needs a kernel with IORING_FEAT_EXT_ARG (5.11); older ones wait without a limit.
     */
    public boolean submitAndAwait(long timeoutMillis) throws IOException {
        if ((features & IoUringAbi.FEAT_EXT_ARG) == 0) {
            submit(1);
            return true;
        }
        INT.setRelease(sq, sqTail, localSqTail);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            int toSubmit = unsubmitted();
            if (toSubmit == 0 && ready() > 0) {
                return true;
            }
            long left = Math.max(0, deadline - System.nanoTime());
            if (left == 0 && toSubmit == 0) {
                return false;
            }
            timespec.setLong(0, left / 1_000_000_000L);
            timespec.setLong(8, left % 1_000_000_000L);
            waitArg.setLong(IoUringAbi.GeteventsArg.TS, Pointer.nativeValue(timespec));
            try {
                HotCalls.syscall(IoUringAbi.SYS_ENTER, fd, toSubmit, 1,
                        IoUringAbi.ENTER_GETEVENTS | IoUringAbi.ENTER_EXT_ARG, Pointer.nativeValue(waitArg),
                        IoUringAbi.GeteventsArg.SIZE);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno != Errno.ETIME && errno != Errno.EINTR && errno != Errno.EAGAIN && errno != Errno.EBUSY) {
                    throw new IOException("io_uring_enter: " + Errno.text(errno));
                }
            }
        }
    }

    /** Entries published but not yet taken by the kernel. */
    private int unsubmitted() {
        return localSqTail - (int) INT.getAcquire(sq, sqHead);
    }

    /** Completions ready to be read. */
    public int ready() {
        return (int) INT.getAcquire(cq, cqTail) - localCqHead;
    }

    /** The user data of ready completion {@code i} (0 is the oldest). */
    public long userData(int i) {
        return cq.getLong(cqe(i) + IoUringAbi.Cqe.USER_DATA);
    }

    /** The result of ready completion {@code i}: what the operation returned, a negative errno on failure. */
    public int result(int i) {
        return cq.getInt(cqe(i) + IoUringAbi.Cqe.RES);
    }

    private int cqe(int i) {
        return cqes + ((localCqHead + i) & cqMask) * IoUringAbi.Cqe.SIZE;
    }

    /** Gives the oldest {@code n} completions back to the kernel, once they have been read. */
    public void consume(int n) {
        localCqHead += n;
        INT.setRelease(cq, cqHead, localCqHead);
    }

    /** Completion entries the ring has. */
    public int cqEntries() {
        return cqEntries;
    }

    /**
     * Unmaps the rings and closes the ring's descriptor: the kernel cancels whatever is still in
     * flight (ublk treats the commands of a closed ring as its server gone).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmapQuietly(sqeMap, sqeMapSize);
        if (cqMap != ringMap) {
            unmapQuietly(cqMap, cqMapSize);
        }
        unmapQuietly(ringMap, ringMapSize);
        LibC.INSTANCE.close(fd);
        waitArg.close();
        timespec.close();
    }
}
