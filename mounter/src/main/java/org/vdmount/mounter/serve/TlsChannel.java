package org.vdmount.mounter.serve;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * A blocking byte channel that speaks TLS over another one, through the JDK's {@link SSLEngine}:
 * what the NBD code reads and writes is plain, what travels is encrypted. Made for one thread
 * (a connection's), like the channel under it; closing it from another thread is allowed.
 *
 * <p>Bulk data moves with few copies: reads decrypt straight into the caller's buffer when it has
 * room for a whole record, and writes encrypt many records into one buffer sent by one system call.
 */
final class TlsChannel implements ByteChannel {
    /** Records encrypted before the ciphertext is sent: one write per 256 KiB of a large reply. */
    private static final int RECORDS_PER_WRITE = 16;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private final ByteChannel net;
    private final SSLEngine engine;
    /** Ciphertext received and not yet decrypted; in read mode between calls. */
    private ByteBuffer netIn;
    /** Ciphertext to send; in write mode. */
    private ByteBuffer netOut;
    /** Plaintext decrypted and not yet given out; in read mode between calls. */
    private ByteBuffer appIn;
    private boolean inboundDone;

    private TlsChannel(ByteChannel net, SSLEngine engine) {
        this.net = net;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        int app = engine.getSession().getApplicationBufferSize();
        netIn = ByteBuffer.allocateDirect(4 * packet).flip();
        netOut = ByteBuffer.allocateDirect(RECORDS_PER_WRITE * packet);
        appIn = ByteBuffer.allocateDirect(app).flip();
    }

    /**
     * Runs the handshake on {@code net} with {@code engine} (already set up as client or server)
     * and returns the channel; a failed handshake sends the peer its alert and throws.
     */
    static TlsChannel handshake(ByteChannel net, SSLEngine engine) throws IOException {
        TlsChannel channel = new TlsChannel(net, engine);
        try {
            engine.beginHandshake();
            channel.handshake();
        } catch (SSLException e) {
            channel.sendAlert();
            throw new IOException("TLS handshake failed: " + reason(e), e);
        }
        return channel;
    }

    /** Whatever the peer's alert or our own said, as one line. */
    private static String reason(SSLException e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause().getMessage() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? e.toString() : t.getMessage();
    }

    private void handshake() throws IOException {
        HandshakeStatus status = engine.getHandshakeStatus();
        while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
            switch (status) {
                case NEED_TASK -> status = runTasks();
                case NEED_WRAP -> status = wrap(NOTHING).getHandshakeStatus();
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult r = unwrapInto(true);
                    if (r == null) {
                        throw new EOFException("the client closed the connection during the TLS handshake");
                    }
                    status = r.getHandshakeStatus();
                }
                default -> throw new IllegalStateException("handshake status " + status);
            }
        }
        send();
    }

    private HandshakeStatus runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
        return engine.getHandshakeStatus();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int start = dst.position();
        if (appIn.hasRemaining()) {
            give(dst);
            return dst.position() - start;
        }
        if (inboundDone) {
            return -1;
        }
        int appSize = engine.getSession().getApplicationBufferSize();
        boolean buffered = false;
        while (true) {
            // Straight into the caller's buffer when a whole record fits, else through ours. Once
            // there is something to return, only records that have fully arrived are decrypted:
            // waiting for more could wait for ever, the peer waiting for our answer.
            boolean direct = !buffered && dst.remaining() >= appSize;
            boolean mayWait = dst.position() == start;
            SSLEngineResult r = direct ? unwrap(dst, mayWait) : unwrapInto(mayWait);
            if (r == null || r.getStatus() == SSLEngineResult.Status.CLOSED) {
                inboundDone = true;
                return dst.position() > start ? dst.position() - start : -1;
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                return dst.position() - start; // not waiting: there is data to return
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                buffered = true; // the record is bigger than the caller's room: take it through ours
                continue;
            }
            afterUnwrap(r.getHandshakeStatus());
            if (!direct && appIn.hasRemaining()) {
                give(dst);
                return dst.position() - start;
            }
        }
    }

    /** TLS 1.3 sends messages after the handshake (key updates, tickets): answer them as they come. */
    private void afterUnwrap(HandshakeStatus status) throws IOException {
        while (status == HandshakeStatus.NEED_TASK || status == HandshakeStatus.NEED_WRAP) {
            status = status == HandshakeStatus.NEED_TASK ? runTasks() : wrap(NOTHING).getHandshakeStatus();
        }
        send();
    }

    private void give(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), appIn.remaining());
        dst.put(appIn.duplicate().limit(appIn.position() + n));
        appIn.position(appIn.position() + n);
    }

    /** Unwraps into our plaintext buffer, kept in read mode; null at the end of the stream. */
    private SSLEngineResult unwrapInto(boolean mayWait) throws IOException {
        appIn.compact();
        try {
            SSLEngineResult r;
            while ((r = unwrap(appIn, mayWait)) != null && r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                appIn = grow(appIn.flip(), engine.getSession().getApplicationBufferSize());
            }
            return r;
        } finally {
            appIn.flip();
        }
    }

    /**
     * Decrypts one record into {@code dst}, reading from the network until one is complete when
     * {@code mayWait} (else an incomplete record is a BUFFER_UNDERFLOW result); null when the peer
     * closed the connection without a word.
     */
    private SSLEngineResult unwrap(ByteBuffer dst, boolean mayWait) throws IOException {
        while (true) {
            SSLEngineResult r = engine.unwrap(netIn, dst);
            if (r.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW || !mayWait) {
                return r;
            }
            send(); // whatever the peer waits for goes out before we wait for it
            if (!receive()) {
                return null;
            }
        }
    }

    /** Reads more ciphertext; false at the end of the stream. */
    private boolean receive() throws IOException {
        netIn.compact();
        try {
            if (!netIn.hasRemaining()) {
                ByteBuffer bigger = ByteBuffer.allocateDirect(2 * netIn.capacity());
                netIn = bigger.put(netIn.flip());
            }
            return net.read(netIn) >= 0;
        } finally {
            netIn.flip();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int start = src.position();
        while (src.hasRemaining()) {
            SSLEngineResult r = wrap(src);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                throw new ClosedChannelException();
            }
        }
        send();
        return src.position() - start;
    }

    /** Encrypts one record of {@code src} into the send buffer, sending the buffer first when it is full. */
    private SSLEngineResult wrap(ByteBuffer src) throws IOException {
        int packet = engine.getSession().getPacketBufferSize();
        if (netOut.remaining() < packet) {
            send();
            if (netOut.capacity() < packet) {
                netOut = ByteBuffer.allocateDirect(RECORDS_PER_WRITE * packet);
            }
        }
        return engine.wrap(src, netOut);
    }

    private void send() throws IOException {
        if (netOut.position() == 0) {
            return;
        }
        netOut.flip();
        try {
            while (netOut.hasRemaining()) {
                net.write(netOut);
            }
        } finally {
            netOut.clear();
        }
    }

    private static ByteBuffer grow(ByteBuffer readable, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(readable.remaining() + Math.max(atLeast, readable.capacity()));
        return bigger.put(readable);
    }

    /** After a failed handshake the engine has an alert for the peer: send it, if the peer still listens. */
    private void sendAlert() {
        try {
            engine.closeOutbound();
            while (!engine.isOutboundDone()) {
                if (wrap(NOTHING).getStatus() == SSLEngineResult.Status.CLOSED && engine.isOutboundDone()) {
                    break;
                }
            }
            send();
        } catch (IOException | RuntimeException e) {
            // the peer is gone: nothing to tell it
        }
    }

    @Override
    public boolean isOpen() {
        return net.isOpen();
    }

    /** Says goodbye (close_notify) when the connection still works, then closes it. */
    @Override
    public void close() throws IOException {
        try {
            if (net.isOpen()) {
                sendAlert();
            }
        } finally {
            net.close();
        }
    }
}
