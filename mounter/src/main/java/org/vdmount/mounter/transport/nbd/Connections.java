package org.vdmount.mounter.transport.nbd;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.TransmissionPhase;

/**
 * Our ends of a device's sockets, each answered by a thread of its own through the NBD server's
 * transmission loop. One thread per connection is what makes requests run in parallel: the kernel
 * spreads them over its connections (one blk-mq hardware queue each), and a connection's own
 * requests are answered in order.
 */
final class Connections {
    private final List<SocketChannelFd> channels = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    Connections(List<Integer> serverEnds, NbdExport export, String device, Consumer<String> log) {
        for (int i = 0; i < serverEnds.size(); i++) {
            SocketChannelFd channel = new SocketChannelFd(serverEnds.get(i));
            channels.add(channel);
            Thread t = new Thread(() -> serve(channel, export, device, log), "nbd-connection-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    void start() {
        threads.forEach(Thread::start);
    }

    private void serve(SocketChannelFd channel, NbdExport export, String device, Consumer<String> log) {
        try {
            TransmissionPhase.serve(channel, export);
        } catch (IOException | RuntimeException e) {
            if (!stopping) {
                log.accept(device + ": a connection to the kernel ended: " + e.getMessage());
            }
        } finally {
            // Closing our end is what tells the kernel this connection is over.
            channel.close();
        }
    }

    /** Ends every connection now; requests in flight on them fail in the kernel. */
    void shutdown() {
        stopping = true;
        channels.forEach(SocketChannelFd::shutdown);
    }

    /** Whether every connection thread ended within {@code millis}. */
    boolean join(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }
}
