package org.vdmount.mounter.util;

/** A failure whose message is already what the user should read, e.g. a bad option value. */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
