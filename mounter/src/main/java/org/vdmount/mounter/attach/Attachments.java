package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Collectors;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.util.UserError;

/**
 * Which attachments of an image may live side by side. An image is attached once: a second set of
 * devices showing the same bytes only confuses, and with --rw two writers corrupt the image. Views
 * that cannot disturb each other may coexist: read-only beside an overlay, or two overlays each
 * with a file of its own. Attachments whose server died do not count: attaching again is how
 * their devices are taken over.
 */
public final class Attachments {
    private Attachments() {
    }

    /** The live attachment that shows {@code image} exactly as {@code options} would, if there is one. */
    public static Optional<AttachmentRecord> sameView(RunDirectory run, Path image, AttachOptions options)
            throws IOException {
        for (AttachmentRecord r : run.list()) {
            if (live(r, image) && sameView(r, options)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** Refuses an attachment of {@code image} as {@code options} say, when a live one would clash with it. */
    static void refuseClash(RunDirectory run, Path image, AttachOptions options) throws IOException {
        for (AttachmentRecord r : run.list()) {
            if (!live(r, image)) {
                continue;
            }
            boolean inPlace = options.readWrite() || r.mode().equals(AttachOptions.READ_WRITE_MODE);
            if (inPlace || sameView(r, options)) {
                throw new UserError(image + ": is attached already (attachment " + r.id() + ", " + r.mode() + ": "
                        + r.devices().stream().map(AttachedDevice::path).collect(Collectors.joining(", "))
                        + "); use those devices, or 'vdmount detach " + r.id() + "' first"
                        + (inPlace ? "" : " (a second view needs an overlay file of its own)"));
            }
        }
    }

    /**
     * Refuses to change {@code file} while a live attachment reads it: as its image (whatever the
     * mode: even a read-only view would change under its readers) or as its overlay.
     */
    public static void refuseInUse(RunDirectory run, Path file, String doing) throws IOException {
        for (AttachmentRecord r : run.list()) {
            if (r.starting() || !r.serverAlive()) {
                continue;
            }
            boolean image = sameFile(Path.of(r.image()), file);
            if (image || r.overlay() != null && sameFile(r.overlay(), file)) {
                throw new UserError(file + ": is attached (attachment " + r.id() + ", " + r.mode() + "), so "
                        + doing + " would change it under its readers; 'vdmount detach " + r.id() + "' first");
            }
        }
    }

    private static boolean live(AttachmentRecord r, Path image) {
        return !r.starting() && r.serverAlive() && sameFile(Path.of(r.image()), image);
    }

    private static boolean sameView(AttachmentRecord r, AttachOptions options) {
        Path theirs = r.overlay();
        Path ours = options.overlay();
        if (theirs == null || ours == null) {
            return theirs == ours && r.mode().equals(options.mode());
        }
        return sameFile(theirs, ours);
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())
                    || Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
