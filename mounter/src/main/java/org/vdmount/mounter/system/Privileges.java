package org.vdmount.mounter.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this process may do. */
public final class Privileges {
    private Privileges() {
    }

    /** Effective uid 0, read from /proc since Java has no geteuid. */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: assume not
        }
        return false;
    }
}
