package org.vdmount.mounter.serve;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import com.google.common.net.InetAddresses;
import org.vdmount.mounter.nbd.NbdConnection;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.nbd.ProtocolViolation;
import org.vdmount.mounter.nbd.StartTls;

/**
 * An NBD server (newstyle fixed negotiation, structured replies, base:allocation block status,
 * STARTTLS when given TLS credentials) for a set of exports, on a TCP address or a Unix socket.
 * Each connection has its own thread: a connection's requests are answered in order, connections
 * run in parallel, and the disks are shared (they are thread safe). The protocol itself is
 * {@link NbdConnection}'s; this class listens, keeps the limits and logs.
 */
public final class NbdServer implements Closeable {
    /** More clients than this at once are turned away, so a flood cannot exhaust threads or memory. */
    public static final int MAX_CONNECTIONS = 128;
    /** Time a client has from connecting to choosing an export (real clients need milliseconds). */
    public static final long HANDSHAKE_TIMEOUT_MILLIS = 30_000;

    private final NbdExports exports;
    private final StartTls tls;
    private final ServerSocketChannel listener;
    private final SocketAddress address;
    private final Consumer<String> log;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionNumber = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread acceptor;
    /** Closes connections that take too long to negotiate, so idle sockets cannot use up the slots. */
    private final ScheduledExecutorService handshakeTimer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nbd-handshake-timer");
        t.setDaemon(true);
        return t;
    });
    private volatile long handshakeTimeoutMillis = HANDSHAKE_TIMEOUT_MILLIS;
    private volatile boolean closing;
    private volatile boolean verbose;

    private NbdServer(NbdExports exports, StartTls tls, ServerSocketChannel listener, Consumer<String> log)
            throws IOException {
        this.exports = exports;
        this.tls = tls;
        this.listener = listener;
        this.address = listener.getLocalAddress();
        this.log = log;
        this.acceptor = new Thread(this::acceptLoop, "nbd-accept");
        acceptor.setDaemon(true);
    }

    /**
     * Listens on {@code where} (an {@link InetSocketAddress}, port 0 for any free port, or a
     * {@link UnixDomainSocketAddress}) and starts serving; {@code log} receives one line per problem.
     */
    public static NbdServer start(NbdExports exports, SocketAddress where, Consumer<String> log) throws IOException {
        return start(exports, where, null, log);
    }

    /** As {@link #start(NbdExports, SocketAddress, Consumer)}, offering TLS through {@code tls} (null for none). */
    public static NbdServer start(NbdExports exports, SocketAddress where, StartTls tls, Consumer<String> log)
            throws IOException {
        ServerSocketChannel listener;
        if (where instanceof UnixDomainSocketAddress unix) {
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        try {
            listener.bind(where, 64);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(exports, tls, listener, log);
        server.acceptor.start();
        return server;
    }

    /** Where the server listens (with the real port when port 0 was asked for). */
    public SocketAddress address() {
        return address;
    }

    public NbdExports exports() {
        return exports;
    }

    /** Whether each client's connection and disconnection is logged (who read what, for the record). */
    public void verbose(boolean on) {
        verbose = on;
    }

    /** For tests: a shorter negotiation deadline. */
    void handshakeTimeout(long millis) {
        handshakeTimeoutMillis = millis;
    }

    /** Waits until {@link #close} has been called. */
    public void awaitClose() throws InterruptedException {
        stopped.await();
    }

    /** Stops listening, drops every connection and removes the Unix socket; the disks stay open. */
    @Override
    public void close() throws IOException {
        if (closing) {
            return;
        }
        closing = true;
        try {
            handshakeTimer.shutdownNow();
            listener.close();
            for (SocketChannel connection : connections) {
                closeQuietly(connection);
            }
            if (address instanceof UnixDomainSocketAddress unix) {
                Files.deleteIfExists(unix.getPath());
            }
        } finally {
            stopped.countDown();
        }
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel connection;
            try {
                connection = listener.accept();
            } catch (ClosedChannelException e) {
                return; // closed by close()
            } catch (IOException e) {
                // Out of file descriptors and the like: passing troubles, the server stays.
                if (!closing) {
                    log.accept("cannot accept a connection: " + e.getMessage());
                    pause();
                }
                continue;
            }
            if (connections.size() >= MAX_CONNECTIONS) {
                log.accept("refusing a connection: " + MAX_CONNECTIONS + " clients are already connected");
                closeQuietly(connection);
                continue;
            }
            connections.add(connection);
            Thread thread = new Thread(() -> serve(connection), "nbd-connection-" + connectionNumber.incrementAndGet());
            thread.setDaemon(true);
            thread.start();
        }
    }

    private void serve(SocketChannel connection) {
        String peer = peerName(connection);
        NbdConnection session = new NbdConnection(connection, exports, tls);
        try {
            if (!(address instanceof UnixDomainSocketAddress)) {
                // Replies are flushed deliberately, once per batch: no reason to let Nagle hold them.
                connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            ScheduledFuture<?> timeout = handshakeTimer.schedule(() -> {
                log.accept("client " + peer + ": dropped, it did not finish negotiating in time");
                closeQuietly(connection);
            }, handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
            NbdExport export;
            try {
                export = session.negotiate();
            } finally {
                timeout.cancel(false);
            }
            if (export != null) {
                if (verbose) {
                    log.accept("client " + peer + ": opened '" + export.name() + "'" + (session.tls() ? " over TLS" : ""));
                }
                session.transmit();
            }
        } catch (ProtocolViolation e) {
            log.accept("client " + peer + ": dropped: " + e.getMessage());
        } catch (EOFException | ClosedChannelException e) {
            // The client went away (or the server is closing): nothing to say.
        } catch (IOException e) {
            if (!closing) {
                log.accept("client " + peer + ": connection ended: " + e.getMessage());
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            if (!closing) {
                log.accept("client " + peer + ": connection ended by an internal error: " + e);
            }
        } finally {
            if (session.refusedWithoutTls()) {
                log.accept("client " + peer + ": refused: it did not start TLS, which this server requires");
            }
            connections.remove(connection);
            try {
                session.close();
            } catch (IOException | RuntimeException e) {
                // the peer is gone: nothing to tell it
            }
            closeQuietly(connection);
            if (verbose && session.summary() != null) {
                log.accept("client " + peer + ": closed after " + session.summary());
            }
        }
    }

    /** Who is at the other end, for log lines; Unix socket peers have no address. */
    private static String peerName(SocketChannel connection) {
        try {
            SocketAddress remote = connection.getRemoteAddress();
            if (remote instanceof InetSocketAddress inet) {
                return InetAddresses.toUriString(inet.getAddress()) + ":" + inet.getPort();
            }
        } catch (IOException e) {
            // fall through
        }
        return "on the Unix socket";
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
