package org.vdmount.mounter.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a standard stream is a terminal: progress bars go to terminals, never into pipes or logs.
 * Told from what /proc says the descriptor is, rather than by isatty through JNA: loading JNA
 * (which unpacks its native library) would cost every short command a good part of its run time.
 */
public final class Terminal {
    private Terminal() {
    }

    public static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    public static boolean stderrIsTerminal() {
        return isTerminal(2);
    }
}
