package org.vdmount.mounter.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.ByteChannel;

/**
 * The transmission phase alone, for a client that learnt the export's size and flags some other
 * way and starts sending requests at once: the kernel's nbd driver, which user space configures
 * by ioctl and hands one end of a socket. Such a client negotiated nothing, so replies are simple
 * ones (no structured replies, no block status).
 */
public final class TransmissionPhase {
    private TransmissionPhase() {
    }

    /**
     * Answers requests on {@code channel} (a blocking channel) until the client sends NBD_CMD_DISC or
     * closes the connection between two requests. Failed requests are logged by the export's gateway.
     *
     * @throws IOException when the request stream breaks (wrong magic, a connection cut inside a
     *         request) or the channel fails
     */
    public static void serve(ByteChannel channel, NbdExport export) throws IOException {
        try {
            new Transmission(channel, new Handshake.Outcome(export, false, false)).run();
        } catch (EOFException e) {
            throw new IOException("the connection ended inside a request: " + e.getMessage(), e);
        }
    }
}
