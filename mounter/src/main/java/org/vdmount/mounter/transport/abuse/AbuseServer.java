package org.vdmount.mounter.transport.abuse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.vdmount.mounter.gateway.RequestGateway;

/**
 * Serves one abuse device with several worker threads, each attached through its own descriptor.
 * Stopping completes what was fetched and detaches; whatever is still queued waits in the kernel
 * for the next server (or fails after the device's timeout).
 */
public final class AbuseServer implements AutoCloseable {
    /** Requests one worker fetches at once; its read buffer holds this many of the largest request. */
    static final int BATCH = 16;

    /** How long the workers may take to attach: they only open a device and make one ioctl. */
    private static final long ATTACH_WAIT_SECONDS = 60;

    private final int index;
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch ready;
    private final AtomicInteger attachFailures = new AtomicInteger();
    private volatile boolean stopping;

    /**
     * Starts {@code threadCount} workers for device {@code index}; {@code maxReqBytes} must be the
     * device's (from its status), since it sizes each worker's buffers.
     */
    public AbuseServer(int index, RequestGateway gateway, int threadCount, int maxReqBytes, Consumer<String> log) {
        this.index = index;
        this.ready = new CountDownLatch(threadCount);
        for (int i = 0; i < threadCount; i++) {
            AbuseWorker worker = new AbuseWorker(index, gateway, maxReqBytes, BATCH, () -> stopping, log, ready,
                    attachFailures);
            Thread t = new Thread(worker, "abuse" + index + "-worker-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    public void start() {
        threads.forEach(Thread::start);
    }

    /**
     * Waits until every worker is attached: only then may the device be started, since its partition
     * scan needs them. Fails if any could not attach.
     */
    public void awaitAttached() throws IOException {
        try {
            if (!ready.await(ATTACH_WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": the server threads did not attach in "
                        + ATTACH_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": interrupted while attaching");
        }
        if (attachFailures.get() > 0) {
            throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": " + attachFailures.get() + " of "
                    + threads.size() + " server threads could not attach");
        }
    }

    /** Waits until every worker has ended (the device was removed, or {@link #close} was called). */
    public void join() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    public boolean running() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        join();
    }
}
