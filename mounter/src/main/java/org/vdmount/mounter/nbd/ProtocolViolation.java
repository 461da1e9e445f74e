package org.vdmount.mounter.nbd;

import java.io.IOException;

/** The client broke the protocol in a way that leaves no safe reply: the connection is dropped. */
public final class ProtocolViolation extends IOException {
    public ProtocolViolation(String message) {
        super(message);
    }
}
