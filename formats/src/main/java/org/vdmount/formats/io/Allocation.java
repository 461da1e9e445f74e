package org.vdmount.formats.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Tells whether a stretch of a file is stored on disk in full, with no hole in it. Java cannot ask
 * the file system (lseek's SEEK_HOLE), so whoever can supplies it: a kernel copy of a stretch with
 * holes would fill them, where a sparse copy must keep them.
 */
@FunctionalInterface
public interface Allocation {
    /** Nothing is known: no stretch counts as stored in full. */
    Allocation UNKNOWN = (file, from, to) -> false;

    /** Whether bytes {@code [from, to)} of {@code file} are all stored (none in a hole). */
    boolean allocated(Path file, long from, long to) throws IOException;
}
