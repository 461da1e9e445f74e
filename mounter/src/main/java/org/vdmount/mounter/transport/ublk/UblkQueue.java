package org.vdmount.mounter.transport.ublk;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.vdmount.mounter.jna.HotCalls;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.transport.ServerThreads;
import org.vdmount.mounter.uring.IoUring;
import org.vdmount.mounter.uring.IoUringAbi;

/**
 * The server of one ublk queue, on a thread of its own (the driver takes a queue's commands from
 * one thread only): its own io_uring (whose completion work runs when the thread waits, see
 * {@link IoUring#openForThisThread}), the queue's descriptor area mapped read-only from
 * /dev/ublkcN, and one buffer per tag. Each tag's fetch command waits in the kernel; when a request
 * arrives its command completes, the thread serves it, and a COMMIT_AND_FETCH command both reports
 * the result and waits for the tag's next request. The commits of everything that arrived together
 * go to the kernel in one io_uring_enter, which also waits for the next arrivals.
 *
 * <p>In the default copy mode the driver copies a write's data into the tag's buffer before the
 * request arrives, and a read's data out of it when the commit reports it. With USER_COPY the
 * server copies through /dev/ublkcN itself (pread of a write's data, pwrite of a read's), and one
 * buffer serves all tags.
 */
final class UblkQueue implements Runnable {
    private final int device;
    private final int q;
    private final int depth;
    private final int maxIoBytes;
    private final int charFd;
    private final boolean userCopy;
    private final UblkRequests requests;
    private final Consumer<String> log;
    private final CountDownLatch ready;
    private final AtomicInteger failures;

    UblkQueue(int device, int q, UblkDeviceInfo info, int charFd, UblkRequests requests, Consumer<String> log,
            CountDownLatch ready, AtomicInteger failures) {
        this.device = device;
        this.q = q;
        this.depth = info.depth();
        this.maxIoBytes = info.maxIoBytes();
        this.charFd = charFd;
        this.userCopy = info.has(UblkAbi.F_USER_COPY);
        this.requests = requests;
        this.log = log;
        this.ready = ready;
        this.failures = failures;
    }

    private String name() {
        return "/dev/" + UblkAbi.DISK_PREFIX + device + " queue " + q;
    }

    @Override
    public void run() {
        ServerThreads.becomeIoFlusher(log);
        long descSize = UblkAbi.cmdBufSize(depth, Mapping.PAGE_SIZE);
        long bufferSize = (long) maxIoBytes * (userCopy ? 1 : depth);
        boolean fetching = false;
        try (IoUring ring = IoUring.openForThisThread(depth, 0);
                Mapping descriptors = Mapping.ofDevice(charFd, descSize,
                        UblkAbi.CMD_BUF_OFFSET + q * UblkAbi.maxCmdBufSize(Mapping.PAGE_SIZE));
                Mapping buffers = Mapping.anonymous(bufferSize)) {
            // One view per tag, made once: nothing is allocated per request.
            ByteBuffer[] views = new ByteBuffer[depth];
            for (int tag = 0; tag < depth; tag++) {
                views[tag] = userCopy ? buffers.buffer() : buffers.slice(tag * (long) maxIoBytes, maxIoBytes);
            }
            // Entries name /dev/ublkcN as registered file 0: the kernel need not look it up for each.
            ring.registerFiles(charFd);
            fetching = fetchAll(ring, buffers);
            if (fetching) {
                ready.countDown();
                serve(ring, descriptors.buffer(), buffers, views);
            }
        } catch (IOException | RuntimeException e) {
            log.accept(name() + ": " + e.getMessage());
        } finally {
            if (!fetching) {
                failures.incrementAndGet();
                ready.countDown();
            }
        }
    }

    /** Gives the driver a fetch command for every tag; whether it took them all. */
    private boolean fetchAll(IoUring ring, Mapping buffers) throws IOException {
        for (int tag = 0; tag < depth; tag++) {
            command(ring, UblkAbi.U_IO_FETCH_REQ, tag, 0, buffers);
        }
        ring.submit(0);
        // A fetch the driver refuses completes at once; one it takes stays in flight.
        int refused = ring.ready();
        if (refused > 0) {
            log.accept(name() + ": the driver refused the fetch command of tag " + ring.userData(0) + ": "
                    + UblkControl.errnoText(-ring.result(0)));
            ring.consume(refused);
            return false;
        }
        return true;
    }

    private void serve(IoUring ring, ByteBuffer descriptors, Mapping buffers, ByteBuffer[] views) throws IOException {
        int inKernel = depth;
        boolean refusalLogged = false;
        while (inKernel > 0) {
            ring.submit(1);
            int n = ring.ready();
            for (int i = 0; i < n; i++) {
                int tag = (int) ring.userData(i);
                int res = ring.result(i);
                inKernel--;
                if (res == UblkAbi.IO_RES_OK) {
                    int result = handle(tag, descriptors, buffers, views[tag]);
                    command(ring, UblkAbi.U_IO_COMMIT_AND_FETCH_REQ, tag, result, buffers);
                    inKernel++;
                } else if (res != UblkAbi.IO_RES_ABORT && !refusalLogged) {
                    // The device is going or gone; what the driver says is logged once.
                    log.accept(name() + ": the driver ended the command of tag " + tag + ": "
                            + UblkControl.errnoText(-res));
                    refusalLogged = true;
                }
            }
            ring.consume(n);
        }
    }

    /** Serves the request of {@code tag}; returns what its commit reports. */
    private int handle(int tag, ByteBuffer descriptors, Mapping buffers, ByteBuffer data) {
        int at = tag * UblkAbi.IoDesc.SIZE;
        int op = UblkRequests.op(descriptors, at);
        if (userCopy && op == UblkAbi.IO_OP_WRITE) {
            int errno = copy(false, tag, buffers, UblkRequests.length(descriptors, at));
            if (errno != 0) {
                return -errno;
            }
        }
        int result = requests.serve(descriptors, at, data);
        if (userCopy && op == UblkAbi.IO_OP_READ && result > 0) {
            int errno = copy(true, tag, buffers, result);
            if (errno != 0) {
                return -errno;
            }
        }
        return result;
    }

    /** With USER_COPY: the request's data from the driver (a write's), or to it (a read's). */
    private int copy(boolean toDriver, int tag, Mapping buffers, long length) {
        if (length > maxIoBytes) {
            return Errno.EINVAL;
        }
        long base = UblkAbi.userCopyOffset(q, tag);
        long done = 0;
        while (done < length) {
            long n;
            try {
                n = toDriver
                        ? HotCalls.pwrite(charFd, buffers.address() + done, length - done, base + done)
                        : HotCalls.pread(charFd, buffers.address() + done, length - done, base + done);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR) {
                    continue;
                }
                return e.getErrorCode();
            }
            if (n <= 0) {
                return Errno.EIO;
            }
            done += n;
        }
        return 0;
    }

    private void command(IoUring ring, long op, int tag, int result, Mapping buffers) {
        int at = ring.prepare();
        ByteBuffer sqe = ring.sqes();
        sqe.put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_URING_CMD);
        sqe.put(at + IoUringAbi.Sqe.FLAGS, (byte) IoUringAbi.SQE_FIXED_FILE);
        sqe.putInt(at + IoUringAbi.Sqe.FD, 0);
        sqe.putInt(at + IoUringAbi.Sqe.CMD_OP, (int) op);
        sqe.putLong(at + IoUringAbi.Sqe.USER_DATA, tag);
        int cmd = at + IoUringAbi.Sqe.CMD;
        sqe.putShort(cmd + UblkAbi.IoCmd.Q_ID, (short) q);
        sqe.putShort(cmd + UblkAbi.IoCmd.TAG, (short) tag);
        sqe.putInt(cmd + UblkAbi.IoCmd.RESULT, result);
        sqe.putLong(cmd + UblkAbi.IoCmd.ADDR, userCopy ? 0 : buffers.address() + tag * (long) maxIoBytes);
    }

    /** A memory mapping: the descriptor area of a queue, or anonymous memory for the buffers. */
    static final class Mapping implements AutoCloseable {
        static final int PAGE_SIZE = 4096;
        private final Pointer address;
        private final long size;
        private final ByteBuffer buffer;

        private Mapping(Pointer address, long size) {
            this.address = address;
            this.size = size;
            this.buffer = address.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
        }

        /** Read-only and shared: the driver writes the descriptors, we only read them. */
        static Mapping ofDevice(int fd, long size, long offset) throws IOException {
            return map(size, LibC.PROT_READ, LibC.MAP_SHARED | LibC.MAP_POPULATE, fd, offset,
                    "cannot map the request descriptors");
        }

        /** Pages are only backed (and, under mlockall's MCL_ONFAULT, locked) once a request touches them. */
        static Mapping anonymous(long size) throws IOException {
            return map(size, LibC.PROT_READ | LibC.PROT_WRITE,
                    LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0,
                    "cannot map the request buffers");
        }

        private static Mapping map(long size, int prot, int flags, int fd, long offset, String what)
                throws IOException {
            Pointer p;
            try {
                p = LibC.INSTANCE.mmap(null, size, prot, flags, fd, offset);
            } catch (LastErrorException e) {
                throw new IOException(what + ": " + Errno.text(e.getErrorCode()));
            }
            if (p == null || Pointer.nativeValue(p) == -1L) {
                throw new IOException(what);
            }
            return new Mapping(p, size);
        }

        ByteBuffer buffer() {
            return buffer;
        }

        /** A view of {@code length} bytes from {@code offset}, for one tag. */
        ByteBuffer slice(long offset, int length) {
            return buffer.slice((int) offset, length).order(ByteOrder.nativeOrder());
        }

        long address() {
            return Pointer.nativeValue(address);
        }

        @Override
        public void close() {
            try {
                LibC.INSTANCE.munmap(address, size);
            } catch (LastErrorException e) {
                // nothing more to do
            }
        }
    }
}
