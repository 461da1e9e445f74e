package org.vdmount.mounter.util;

/**
 * Where servers say what went wrong while serving: one line per event on standard error, as
 * {@code vdmount: <message>}. A background attach server's standard error is its attachment's log
 * file ({@code vdmount list} shows it); {@code --foreground} and {@code serve} keep the terminal.
 * Failed requests go through the same lines, one per kind (see the gateway's FailureLog).
 */
public final class Log {
    private Log() {
    }

    public static void warn(String message) {
        System.err.println("vdmount: " + message);
    }
}
