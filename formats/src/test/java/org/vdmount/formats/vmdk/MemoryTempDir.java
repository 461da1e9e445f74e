package org.vdmount.formats.vmdk;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Temporary directories in memory (/dev/shm) where there is one. The write tests flush often; on a
 * shared disk an fsync can take seconds, and what they check (the order of writes, what a killed
 * process leaves behind) does not depend on the disk.
 */
final class MemoryTempDir implements TempDirFactory {
    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension) throws Exception {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return Files.createTempDirectory(shm, "vdmount-test-");
        }
        return Files.createTempDirectory("vdmount-test-");
    }
}
