package org.vdmount.mounter.transport.ublk;

import java.io.IOException;

/** A ublk control command the driver refused, with the errno it answered. */
final class UblkCommandException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    UblkCommandException(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    int errno() {
        return errno;
    }
}
