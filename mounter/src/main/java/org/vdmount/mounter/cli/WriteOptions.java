package org.vdmount.mounter.cli;

import java.nio.file.Path;
import org.vdmount.mounter.util.UsageError;
import picocli.CommandLine.Option;

/** Whether writes are taken, and where they go: the same three options on attach, mount and serve. */
final class WriteOptions {

    @Option(names = "--read-only", description = "Refuse writes (the default).")
    boolean readOnly;

    @Option(names = "--rw", description = "Take writes and let them change the image itself. Writable in place: "
            + "raw images, qcow2 (v2 and v3, extended L2 subclusters, external data files; internal snapshots "
            + "are kept intact) and VMDK (monolithicSparse, twoGbMaxExtentSparse, snapshot deltas, flat "
            + "extents): the top image only, backing files and "
            + "parents stay untouched. Other formats: use --overlay. Never use it on evidence.")
    boolean readWrite;

    @Option(names = "--overlay", paramLabel = "FILE", description = "Take writes and keep them in FILE, a qcow2 file "
            + "whose backing file is the image (created if missing or empty; qemu reads it too); the image is never "
            + "opened for writing. Using the same FILE again shows the earlier writes; 'vdmount commit FILE' merges "
            + "them into the image.")
    Path overlay;

    /** Refuses contradictions, also with the image's {@code source}; returns the overlay as an absolute path, or null. */
    Path check(SourceOptions source) {
        if (overlay != null && source.snapshot != null) {
            throw new UsageError("--overlay cannot go with --snapshot: a qcow2 overlay's backing file is a whole "
                    + "image, never one of its snapshots");
        }
        if (overlay != null && source.disk != 0) {
            throw new UsageError("--overlay cannot go with --disk: a qcow2 overlay's backing file is a whole "
                    + "file, never one disk of several in it");
        }
        return check();
    }

    private Path check() {
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
