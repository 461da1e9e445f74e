package org.vdmount.mounter.transport.abuse;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.jna.HotCalls;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.transport.ServerThreads;

/**
 * One server thread: its own descriptor attached to the device, its own native buffers, and a loop
 * in which one ioctl both completes the last batch and fetches the next. Nothing is allocated per
 * request: buffer views are reused with position and limit.
 */
final class AbuseWorker implements Runnable {
    /** How long an idle worker waits in epoll before looking at the stop flag again. */
    private static final int IDLE_POLL_MILLIS = 250;

    private final int index;
    private final RequestGateway gateway;
    private final BooleanSupplier stopping;
    private final Consumer<String> log;
    private final int batch;
    private final int maxReqBytes;
    private final CountDownLatch ready;
    private final AtomicInteger attachFailures;

    private final Memory xfer = new Memory(AbuseAbi.Xfer.SIZE);
    private final Memory requests;
    private final Memory completions;
    private final Memory writeData;
    private final Memory readArena;
    private final Memory epollEvent = new Memory(HotCalls.EPOLL_EVENT_SIZE);
    private final ByteBuffer xferView;
    private final ByteBuffer requestView;
    private final ByteBuffer completionView;
    private final ByteBuffer writeView;
    private final ByteBuffer readView;
    private final long readArenaAddress;
    private final long xferAddress;
    private final long epollEventAddress;

    /**
     * {@code ready} is counted down once this worker is attached to the device, or has failed to
     * attach (counted in {@code attachFailures}): the device is started only when all are.
     */
    AbuseWorker(int index, RequestGateway gateway, int maxReqBytes, int batch, BooleanSupplier stopping,
            Consumer<String> log, CountDownLatch ready, AtomicInteger attachFailures) {
        this.index = index;
        this.ready = ready;
        this.attachFailures = attachFailures;
        this.gateway = gateway;
        this.stopping = stopping;
        this.log = log;
        this.batch = batch;
        this.maxReqBytes = maxReqBytes;
        requests = new Memory((long) batch * AbuseAbi.Request.SIZE);
        completions = new Memory((long) batch * AbuseAbi.Completion.SIZE);
        writeData = new Memory(maxReqBytes);
        readArena = new Memory((long) batch * maxReqBytes);
        // Reserved fields must be zero, and JNA's Memory is not zeroed.
        xfer.clear();
        epollEvent.clear();
        xferView = AbuseControl.view(xfer);
        requestView = AbuseControl.view(requests);
        completionView = AbuseControl.view(completions);
        writeView = AbuseControl.view(writeData);
        readView = AbuseControl.view(readArena);
        readArenaAddress = Pointer.nativeValue(readArena);
        xferAddress = Pointer.nativeValue(xfer);
        epollEventAddress = Pointer.nativeValue(epollEvent);
    }

    @Override
    public void run() {
        ServerThreads.becomeIoFlusher(log);
        int fd;
        try {
            fd = LibC.INSTANCE.open(AbuseAbi.CONTROL_DEVICE, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            log.accept(AbuseAbi.CONTROL_DEVICE + ": " + AbuseControl.errnoText(e.getErrorCode()));
            attachFailures.incrementAndGet();
            ready.countDown();
            return;
        }
        try {
            try {
                LibC.INSTANCE.ioctl(fd, AbuseAbi.ATTACH, index);
            } catch (LastErrorException e) {
                log.accept("/dev/" + AbuseAbi.DISK_PREFIX + index + ": cannot attach: "
                        + AbuseControl.errnoText(e.getErrorCode()));
                attachFailures.incrementAndGet();
                return;
            } finally {
                ready.countDown();
            }
            serve(fd);
        } finally {
            // Requests fetched but not completed go back to the queue for the next server, once every
            // thread of this process has let go of the device.
            LibC.INSTANCE.close(fd);
        }
    }

    private void serve(int fd) {
        int epfd = exclusiveWatch(fd);
        try {
            serve(fd, epfd);
        } finally {
            LibC.INSTANCE.close(epfd);
        }
    }

    /**
     * An epoll instance of this thread's own, watching the control descriptor exclusively: a new
     * request wakes one idle worker instead of all of them, which saves a round of futile fetches
     * (and, on small or emulated machines, most of the time of a 4 KiB read).
     */
    private int exclusiveWatch(int fd) {
        int epfd = HotCalls.epoll_create1(HotCalls.EPOLL_CLOEXEC);
        epollEvent.setInt(0, HotCalls.EPOLLIN | HotCalls.EPOLLEXCLUSIVE);
        epollEvent.setLong(4, fd);
        try {
            HotCalls.epoll_ctl(epfd, HotCalls.EPOLL_CTL_ADD, fd, epollEventAddress);
        } catch (LastErrorException e) {
            LibC.INSTANCE.close(epfd);
            throw e;
        }
        return epfd;
    }

    private void serve(int fd, int epfd) {
        int pending = 0;
        while (!stopping.getAsBoolean() || pending > 0) {
            xferView.putLong(AbuseAbi.Xfer.CMPL_ADDR, Pointer.nativeValue(completions));
            xferView.putInt(AbuseAbi.Xfer.CMPL_COUNT, pending);
            xferView.putInt(AbuseAbi.Xfer.REQ_COUNT, stopping.getAsBoolean() ? 0 : batch);
            xferView.putLong(AbuseAbi.Xfer.REQ_ADDR, Pointer.nativeValue(requests));
            xferView.putLong(AbuseAbi.Xfer.DATA_ADDR, Pointer.nativeValue(writeData));
            xferView.putInt(AbuseAbi.Xfer.DATA_LEN, maxReqBytes);
            xferView.putInt(AbuseAbi.Xfer.CMPL_DONE, 0);
            xferView.putInt(AbuseAbi.Xfer.CMPL_ERRORS, 0);
            int fetched;
            try {
                fetched = HotCalls.ioctl(fd, AbuseAbi.COMMIT_AND_FETCH, xferAddress);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == Errno.EINVAL) {
                    log.accept("the kernel refused a batch as malformed (a bug in vdmount): this thread stops");
                    return;
                }
                reportRejected();
                pending = 0;
                if (errno == Errno.ENODEV) {
                    log.accept("/dev/" + AbuseAbi.DISK_PREFIX + index + " was removed: a server thread stops");
                    return;
                }
                if (errno == Errno.EAGAIN) {
                    idle(epfd);
                } else if (errno != Errno.EINTR) {
                    log.accept("/dev/" + AbuseAbi.DISK_PREFIX + index + ": fetch failed: "
                            + AbuseControl.errnoText(errno));
                    return;
                }
                continue;
            }
            reportRejected();
            for (int i = 0; i < fetched; i++) {
                handle(i);
            }
            pending = fetched;
        }
    }

    private void idle(int epfd) {
        try {
            HotCalls.epoll_wait(epfd, epollEventAddress, 1, IDLE_POLL_MILLIS);
        } catch (LastErrorException e) {
            // EINTR: look at the stop flag and try again.
        }
    }

    private void reportRejected() {
        int rejected = xferView.getInt(AbuseAbi.Xfer.CMPL_ERRORS);
        if (rejected > 0) {
            log.accept("/dev/" + AbuseAbi.DISK_PREFIX + index + ": the kernel rejected " + rejected + " completions");
        }
    }

    /** Serves request {@code i} of the batch and writes completion {@code i}. */
    private void handle(int i) {
        int r = i * AbuseAbi.Request.SIZE;
        int op = requestView.getInt(r + AbuseAbi.Request.OP);
        long offset = requestView.getLong(r + AbuseAbi.Request.OFFSET);
        int len = requestView.getInt(r + AbuseAbi.Request.LEN);
        int flags = requestView.getInt(r + AbuseAbi.Request.FLAGS);
        int c = i * AbuseAbi.Completion.SIZE;
        completionView.putInt(c + AbuseAbi.Completion.TAG, requestView.getInt(r + AbuseAbi.Request.TAG));
        completionView.putLong(c + AbuseAbi.Completion.SEQ, requestView.getLong(r + AbuseAbi.Request.SEQ));
        completionView.putInt(c + AbuseAbi.Completion.LEN, 0);
        completionView.putInt(c + AbuseAbi.Completion.RESERVED, 0);
        completionView.putLong(c + AbuseAbi.Completion.ADDR, 0);
        int errno;
        switch (op) {
            case AbuseAbi.OP_READ -> {
                errno = read(i, offset, len);
                if (errno == 0) {
                    completionView.putInt(c + AbuseAbi.Completion.LEN, len);
                    completionView.putLong(c + AbuseAbi.Completion.ADDR, readArenaAddress + (long) i * maxReqBytes);
                }
            }
            case AbuseAbi.OP_WRITE -> {
                int at = requestView.getInt(r + AbuseAbi.Request.DATA_OFFSET);
                if (len < 0 || len > maxReqBytes || at < 0 || at > maxReqBytes - len) {
                    errno = Errno.EINVAL;
                } else {
                    writeView.limit(at + len).position(at);
                    errno = gateway.write(writeView, offset, (flags & AbuseAbi.REQ_FUA) != 0);
                }
            }
            case AbuseAbi.OP_FLUSH -> errno = gateway.flush();
            case AbuseAbi.OP_DISCARD -> errno = gateway.trim(offset, Integer.toUnsignedLong(len), (flags & AbuseAbi.REQ_FUA) != 0);
            case AbuseAbi.OP_WRITE_ZEROES -> errno = gateway.writeZeroes(offset, Integer.toUnsignedLong(len),
                    (flags & AbuseAbi.REQ_FUA) != 0);
            default -> errno = Errno.ENOTSUP;
        }
        completionView.putInt(c + AbuseAbi.Completion.RESULT, -errno);
    }

    private int read(int slot, long offset, int len) {
        if (len < 0 || len > maxReqBytes) {
            return Errno.EINVAL;
        }
        int at = slot * maxReqBytes;
        readView.limit(at + len).position(at);
        return gateway.read(readView, offset);
    }
}
