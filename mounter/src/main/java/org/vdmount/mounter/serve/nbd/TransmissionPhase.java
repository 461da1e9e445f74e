package org.vdmount.mounter.serve.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.util.function.Consumer;

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
     * closes the connection between two requests; {@code log} receives one line per image error.
     *
     * @throws IOException when the request stream breaks (wrong magic, a connection cut inside a
     *         request) or the channel fails
     */
    public static void serve(ByteChannel channel, NbdExport export, Consumer<String> log) throws IOException {
        try {
            new Transmission(channel, new Handshake.Outcome(export, false, false), log).run();
        } catch (EOFException e) {
            throw new IOException("the connection ended inside a request: " + e.getMessage(), e);
        }
    }
}
