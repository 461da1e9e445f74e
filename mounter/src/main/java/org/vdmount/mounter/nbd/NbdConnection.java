package org.vdmount.mounter.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ByteChannel;

/**
 * One client of an NBD server, from greeting to goodbye: the negotiation, then the transmission
 * phase on the export chosen. The server owns the socket and the thread; this is the protocol.
 */
public final class NbdConnection implements Closeable {
    private final Handshake handshake;
    private Transmission transmission;
    private NbdExport export;

    /** @param tls how to start TLS when the client asks, or null for a server without TLS */
    public NbdConnection(ByteChannel channel, NbdExports exports, StartTls tls) {
        this.handshake = new Handshake(channel, exports, tls);
    }

    /**
     * Negotiates until the client chooses an export (returned) or leaves (null).
     *
     * @throws ProtocolViolation when the client breaks the protocol (the connection should be dropped)
     */
    public NbdExport negotiate() throws IOException {
        Handshake.Outcome outcome = handshake.negotiate();
        if (outcome == null) {
            return null;
        }
        export = outcome.export();
        transmission = new Transmission(handshake.channel(), outcome);
        return export;
    }

    /** Whether the connection is encrypted (STARTTLS succeeded). */
    public boolean tls() {
        return handshake.tlsOn();
    }

    /** Whether the client asked for something before starting TLS, which the server requires, and was refused. */
    public boolean refusedWithoutTls() {
        return handshake.refusedWithoutTls() && !handshake.tlsOn();
    }

    /** Serves the export's requests until the client disconnects. */
    public void transmit() throws IOException {
        if (transmission == null) {
            throw new IllegalStateException("no export was negotiated");
        }
        transmission.run();
    }

    /** One line on what the client did, for the log; null before an export was chosen. */
    public String summary() {
        return transmission == null ? null : transmission.summary();
    }

    /** Ends the session: over TLS the peer is told (close_notify); the socket is closed. */
    @Override
    public void close() throws IOException {
        handshake.channel().close();
    }
}
