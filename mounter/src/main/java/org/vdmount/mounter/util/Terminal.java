package org.vdmount.mounter.util;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** Whether a standard stream is a terminal: progress bars go to terminals, never into pipes or logs. */
public final class Terminal {
    private interface LibC extends Library {
        int isatty(int fd);
    }

    private static final LibC LIBC = load();

    private Terminal() {
    }

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }

    public static boolean isTerminal(int fd) {
        return LIBC != null && LIBC.isatty(fd) == 1;
    }

    public static boolean stderrIsTerminal() {
        return isTerminal(2);
    }
}
