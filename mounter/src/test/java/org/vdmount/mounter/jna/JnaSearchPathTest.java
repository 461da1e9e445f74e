package org.vdmount.mounter.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class JnaSearchPathTest {

    @Test
    void listsTheStandardLibraryDirectoriesThatExistAndOnlyThose() {
        List<String> dirs = JnaSearchPath.directories();
        assertFalse(dirs.isEmpty());
        for (String dir : dirs) {
            assertTrue(Files.isDirectory(Path.of(dir)), dir);
        }
        // The directory where this machine's libc is: the loader's own, which JNA's fallback must know too.
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        if (Files.exists(libc)) {
            assertTrue(dirs.contains("/lib/x86_64-linux-gnu"), dirs.toString());
        }
        assertTrue(dirs.contains("/usr/lib"), dirs.toString());
    }

    @Test
    void keepsWhatTheUserSet() {
        String before = System.getProperty(JnaSearchPath.PROPERTY);
        try {
            System.setProperty(JnaSearchPath.PROPERTY, "/opt/mine");
            JnaSearchPath.setUnlessSet();
            assertEquals("/opt/mine", System.getProperty(JnaSearchPath.PROPERTY));
            System.clearProperty(JnaSearchPath.PROPERTY);
            JnaSearchPath.setUnlessSet();
            assertEquals(String.join(File.pathSeparator, JnaSearchPath.directories()),
                    System.getProperty(JnaSearchPath.PROPERTY));
        } finally {
            if (before == null) {
                System.clearProperty(JnaSearchPath.PROPERTY);
            } else {
                System.setProperty(JnaSearchPath.PROPERTY, before);
            }
        }
    }
}
