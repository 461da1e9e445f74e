package org.vdmount.mounter.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class CommandsTest {
    @Test
    void aFailureKeepsItsWholeMessageOnOneLine() {
        // What Debian 12's mount says for a file system the kernel lacks: the reason first, a hint after.
        IOException e = assertThrows(IOException.class, () -> Commands.run("sh", "-c",
                "echo \"mount: /mnt: unknown filesystem type 'vfat'.\" >&2;"
                        + " echo '       dmesg(1) may have more information after failed mount system call.' >&2; exit 32"));
        assertEquals("sh failed: mount: /mnt: unknown filesystem type 'vfat'. dmesg(1) may have more information after "
                + "failed mount system call.", e.getMessage());
    }

    @Test
    void aSilentFailureGivesItsStatus() {
        IOException e = assertThrows(IOException.class, () -> Commands.run("sh", "-c", "exit 3"));
        assertEquals("sh failed: exit status 3", e.getMessage());
    }
}
