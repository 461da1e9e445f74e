package org.vdmount.mounter.cli;

import java.nio.file.Path;
import org.vdmount.mounter.util.UsageError;
import picocli.CommandLine.Option;

/** Whether writes are taken, and where they go: the same three options on attach, mount and serve. */
final class WriteOptions {

    @Option(names = "--read-only", description = "Refuse writes (the default).")
    boolean readOnly;

    @Option(names = "--rw", description = "Take writes and let them change the image itself. Writable in place: "
            + "raw images, qcow2 (v2 and v3; internal snapshots are kept intact) and VMDK (monolithicSparse, "
            + "twoGbMaxExtentSparse, snapshot deltas, flat extents): the top image only, backing files and "
            + "parents stay untouched. Other formats: use --overlay. Never use it on evidence.")
    boolean readWrite;

    @Option(names = "--overlay", paramLabel = "FILE", description = "Take writes and keep them in FILE (created if "
            + "missing); the image is never opened for writing. Using the same FILE again shows the earlier writes.")
    Path overlay;

    /** Refuses contradictions; returns the overlay as an absolute path, or null. */
    Path check() {
        if (readOnly && (readWrite || overlay != null)) {
            throw new UsageError("--read-only contradicts " + (readWrite ? "--rw" : "--overlay"));
        }
        if (readWrite && overlay != null) {
            throw new UsageError("--rw and --overlay exclude each other: --overlay keeps the image unchanged");
        }
        return overlay == null ? null : overlay.toAbsolutePath().normalize();
    }

    boolean writable() {
        return readWrite || overlay != null;
    }
}
