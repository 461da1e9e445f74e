package org.vdmount.mounter.read;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.vdmount.formats.io.Allocation;

/**
 * Which files are stored (nearly) in full, for {@code cat -o}'s kernel copies: the stretches of a
 * sparse file go through a buffer instead, so that its holes stay holes in the copy. Java cannot
 * see a file's holes, and binding lseek's SEEK_HOLE through JNA costs a copy 0.1-0.3 s of start
 * (JNA unpacks and loads its native library), so stat(1) is asked once per file for its size and
 * the space it takes. A file whose holes add up to at most {@link #SLACK} counts as stored: image
 * files written by qemu-img have a few small ones between their tables, and copying those few
 * as zeros changes no byte of the copy, only its allocation by as much. Sparse files (a raw disk
 * with holes), and anything stat cannot tell, are copied through the buffer, which keeps holes.
 */
final class FileHoles implements Allocation {
    static final long SLACK = 16L << 20;

    private final Map<Path, Boolean> full = new HashMap<>();

    @Override
    public synchronized boolean allocated(Path file, long from, long to) {
        return full.computeIfAbsent(file, FileHoles::fullyStored);
    }

    private static boolean fullyStored(Path file) {
        try {
            Process stat = new ProcessBuilder("stat", "-L", "-c", "%s %b %B", "--", file.toString())
                    .redirectErrorStream(true).start();
            String[] f = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split(" ");
            if (!stat.waitFor(10, TimeUnit.SECONDS) || stat.exitValue() != 0 || f.length != 3) {
                return false;
            }
            return Long.parseLong(f[1]) * Long.parseLong(f[2]) + SLACK >= Long.parseLong(f[0]);
        } catch (IOException | NumberFormatException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
