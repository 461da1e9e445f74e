package org.vdmount.mounter.nbd;

import java.io.IOException;
import java.nio.channels.ByteChannel;

/**
 * How a server turns a connection into a TLS one when the client sends NBD_OPT_STARTTLS; the
 * protocol code knows nothing of certificates. Absent (null) when the server has no TLS.
 */
public interface StartTls {

    /** Whether a client must start TLS before it may do anything but abort. */
    boolean required();

    /**
     * Runs the TLS handshake as the server on {@code plain} (blocking) and returns the channel
     * that carries the rest of the session encrypted; closing it closes {@code plain} too.
     *
     * @throws IOException when the handshake fails (bad certificate, not a TLS client): the
     *         connection is then dropped
     */
    ByteChannel start(ByteChannel plain) throws IOException;
}
