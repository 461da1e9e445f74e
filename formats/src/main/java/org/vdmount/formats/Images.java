package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.ova.OvaFormat;
import org.vdmount.formats.qcow2.Qcow2Format;
import org.vdmount.formats.raw.RawFormat;
import org.vdmount.formats.vmdk.VmdkFormat;

/** Opens images: recognises the format by content and builds the whole backing chain. */
public final class Images {
    /** How much of a file probing looks at. */
    public static final int PROBE_BYTES = 64 * 1024;

    /** Probed in this order; raw last, since anything is raw. */
    private static final List<ImageFormat> FORMATS = List.of(
            new Qcow2Format(),
            new VmdkFormat(),
            new OvaFormat(),
            new RawFormat());

    private Images() {
    }

    public static List<ImageFormat> formats() {
        return FORMATS;
    }

    /** Opens {@code path} and its backing chain read-only, printing warnings to nowhere. */
    public static VirtualDisk open(Path path) throws IOException {
        return open(path, OpenOptions.readOnly(), w -> { });
    }

    /** Opens {@code path} and its backing chain; warnings (that don't stop reading) go to {@code warnings}. */
    public static VirtualDisk open(Path path, OpenOptions options, Consumer<String> warnings) throws IOException {
        String name = path.toString();
        OpenContext context = OpenContext.top(options, path, name, warnings);
        return open(path, name, null, context);
    }

    static VirtualDisk open(Path path, String name, String formatName, OpenContext context) throws IOException {
        FileStorage storage = FileStorage.open(path, name, context.isTop() && context.options().writable());
        try {
            ImageFormat format = formatName == null ? probe(storage) : byName(storage.name(), formatName);
            if (context.isTop() && context.options().snapshot() != null && !format.hasSnapshots()) {
                throw new ImageException(name, format.name() + " images have no internal snapshots (--snapshot "
                        + context.options().snapshot() + ")");
            }
            if (context.isTop() && context.options().disk() != 0 && !format.holdsSeveralDisks()) {
                throw new ImageException(name, "a " + format.name() + " image is one disk: --disk "
                        + context.options().disk() + " is for containers of several disks (OVA)");
            }
            return format.open(storage, context);
        } catch (IOException | RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    /** The format whose magic {@code storage} carries (raw when none does). */
    public static ImageFormat probe(Storage storage) throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(PROBE_BYTES, Math.max(0, storage.size())));
        while (head.hasRemaining()) {
            if (storage.readAt(head, head.position()) < 0) {
                break;
            }
        }
        head.flip();
        for (ImageFormat format : FORMATS) {
            if (format.probe(head.duplicate())) {
                return format;
            }
        }
        throw new IllegalStateException("raw accepts everything");
    }

    /** The format called {@code name}, as a parent image declares its backing format. */
    public static ImageFormat byName(String file, String name) throws ImageException {
        Optional<ImageFormat> match = FORMATS.stream()
                .filter(f -> f.name().equals(name.toLowerCase(Locale.ROOT)))
                .findFirst();
        return match.orElseThrow(() -> new ImageException(file, "backing format '" + name + "' is not supported"));
    }
}
