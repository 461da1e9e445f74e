package org.vdmount.mounter.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.vdmount.formats.io.FileSpace;

/**
 * The space an image's files take on disk, as {@code du} and {@code qemu-img info} count it: holes
 * take none. Each file is asked once ({@link FileSpace}), however many layers name it.
 */
final class AllocatedSizes {
    /** Bytes per file; -1 for a file that cannot be measured. */
    private final Map<String, Long> known = new HashMap<>();

    /** Bytes the files take together (each counted once), or -1 when one cannot be measured. */
    long total(Iterable<String> files) {
        Set<String> unique = new LinkedHashSet<>();
        files.forEach(unique::add);
        long sum = 0;
        for (String file : unique) {
            long bytes = known.computeIfAbsent(file, AllocatedSizes::measure);
            if (bytes < 0) {
                return -1;
            }
            sum += bytes;
        }
        return unique.isEmpty() ? -1 : sum;
    }

    private static long measure(String file) {
        FileSpace.Usage usage = FileSpace.of(Path.of(file));
        return usage == null ? -1 : usage.allocated();
    }
}
