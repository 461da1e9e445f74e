package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.overlay.Overlays;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;

/**
 * Opens the image an attachment serves in the mode asked for: read-only (the default), with an
 * overlay file taking the writes (the image is still opened read-only), or writable in place.
 */
public final class WritableDisks {
    private WritableDisks() {
    }

    static VirtualDisk open(Path image, AttachOptions options, Consumer<String> warnings) throws IOException {
        return open(image, new OpenOptions(options.snapshot(), options.diskNumber(), options.readWrite(), options.format(),
                options.forceShare()), options.overlay(), warnings);
    }

    /**
     * Opens {@code image} as {@code open} says (writable in place when it says so), under an
     * overlay file when {@code overlay} is not null.
     */
    public static VirtualDisk open(Path image, OpenOptions open, Path overlay, Consumer<String> warnings)
            throws IOException {
        if (open.writable() && overlay != null) {
            throw new UsageError("--rw and --overlay exclude each other: --overlay keeps the image unchanged");
        }
        if (open.writable() && open.snapshot() != null) {
            throw new UsageError("a snapshot is read-only: --rw cannot go with --snapshot");
        }
        if (overlay != null && open.snapshot() != null) {
            throw new UsageError("--overlay cannot go with --snapshot: a qcow2 overlay's backing file is a whole "
                    + "image, never one of its snapshots");
        }
        if (overlay != null && open.disk() != 0) {
            throw new UsageError("--overlay cannot go with --disk: a qcow2 overlay's backing file is a whole "
                    + "file, never one disk of several in it");
        }
        VirtualDisk disk = Images.open(image, open, warnings);
        if (overlay != null) {
            try {
                refuseOverlayOnTheChain(disk, overlay);
            } catch (IOException | RuntimeException e) {
                disk.close();
                throw e;
            }
            // From here the overlay owns the image's disk, and closes it on failure too.
            return writableOverlay(image, Overlays.open(image, disk, overlay, warnings));
        }
        if (open.writable() && !disk.writable()) {
            disk.close();
            throw new UserError(image + ": vdmount cannot write " + disk.info().format()
                    + " images in place yet (it writes raw, qcow2 and VMDK); use --overlay FILE to keep the writes"
                    + " in a separate file");
        }
        return disk;
    }

    private static VirtualDisk writableOverlay(Path image, VirtualDisk overlaid) throws IOException {
        if (!overlaid.writable()) {
            overlaid.close();
            throw new UserError(overlaid.info().name() + ": cannot be opened for writing, so it cannot take the "
                    + "writes of " + image);
        }
        return overlaid;
    }

    /** An overlay that is one of the image's own files would overwrite the evidence. */
    private static void refuseOverlayOnTheChain(VirtualDisk disk, Path overlay) throws IOException {
        if (!Files.exists(overlay)) {
            return;
        }
        for (VirtualDisk layer = disk; layer != null; layer = layer.backing().orElse(null)) {
            for (String file : layer.info().files()) {
                Path member = Path.of(file);
                if (Files.exists(member) && Files.isSameFile(member, overlay)) {
                    throw new UserError(overlay + ": is part of the image; the overlay must be a file of its own");
                }
            }
        }
    }
}
