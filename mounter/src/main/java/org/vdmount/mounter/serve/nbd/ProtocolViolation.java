package org.vdmount.mounter.serve.nbd;

import java.io.IOException;

/** The client broke the protocol in a way that leaves no safe reply: the connection is dropped. */
final class ProtocolViolation extends IOException {
    ProtocolViolation(String message) {
        super(message);
    }
}
