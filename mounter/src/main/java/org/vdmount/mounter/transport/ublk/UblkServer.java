package org.vdmount.mounter.transport.ublk;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.jna.LibC;

/**
 * Serves one ublk device: /dev/ublkcN opened once (the driver lets one descriptor have it at a
 * time), and one thread per queue. The threads end when the driver aborts their commands, which it
 * does when the device is stopped; closing the descriptor after them lets the driver free the
 * device.
 */
final class UblkServer {
    /** How long the queue threads may take to hand their fetch commands to the driver. */
    private static final long READY_WAIT_SECONDS = 60;

    private final int device;
    private final int charFd;
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch ready;
    private final AtomicInteger failures = new AtomicInteger();
    private boolean closed;

    private UblkServer(int device, int charFd, UblkDeviceInfo info, RequestGateway gateway, Consumer<String> log) {
        this.device = device;
        this.charFd = charFd;
        this.ready = new CountDownLatch(info.queues());
        UblkRequests requests = new UblkRequests(gateway, info.maxIoBytes());
        for (int q = 0; q < info.queues(); q++) {
            Thread t = new Thread(new UblkQueue(device, q, info, charFd, requests, log, ready, failures),
                    UblkAbi.DISK_PREFIX + device + "-queue-" + q);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    /** Opens /dev/ublkcN of {@code info}'s device and starts a thread per queue. */
    static UblkServer start(UblkDeviceInfo info, RequestGateway gateway, Consumer<String> log) throws IOException {
        String node = "/dev/" + UblkAbi.CHAR_PREFIX + info.id();
        int fd;
        try {
            fd = LibC.INSTANCE.open(node, LibC.O_RDWR | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException(node + ": " + (e.getErrorCode() == org.vdmount.mounter.system.Errno.EBUSY
                    ? "another server has it open" : UblkControl.errnoText(e.getErrorCode())));
        }
        UblkServer server = new UblkServer(info.id(), fd, info, gateway, log);
        server.threads.forEach(Thread::start);
        return server;
    }

    /** Waits until every queue's fetch commands are with the driver; fails if any queue could not. */
    void awaitReady() throws IOException {
        try {
            if (!ready.await(READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException(UblkControl.disk(device) + ": the queue threads did not start in "
                        + READY_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(UblkControl.disk(device) + ": interrupted while starting its queues");
        }
        if (failures.get() > 0) {
            throw new IOException(UblkControl.disk(device) + ": " + failures.get() + " of " + threads.size()
                    + " queues could not start");
        }
    }

    /** Waits until every queue thread has ended, then lets go of /dev/ublkcN. */
    void join() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
        closeDevice();
    }

    /** Waits at most {@code millis} for the threads; whether they all ended (and the device was let go). */
    boolean join(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (t.isAlive()) {
                return false;
            }
        }
        closeDevice();
        return true;
    }

    private synchronized void closeDevice() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.close(charFd);
        }
    }
}
