package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.vdmount.formats.ewf.EwfFormat;
import org.vdmount.formats.io.DiskStorage;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.ova.OvaFormat;
import org.vdmount.formats.parallels.ParallelsFormat;
import org.vdmount.formats.qcow2.Qcow2Format;
import org.vdmount.formats.raw.RawFormat;
import org.vdmount.formats.vdi.VdiFormat;
import org.vdmount.formats.vhd.VhdFormat;
import org.vdmount.formats.vhdx.VhdxFormat;
import org.vdmount.formats.vmdk.VmdkFormat;

/** Opens images: recognises the format by content and builds the whole backing chain. */
public final class Images {
    /** The file that describes a Parallels bundle, a directory given as the image. */
    private static final String BUNDLE_DESCRIPTOR = "DiskDescriptor.xml";

    /** How much of a file's start probing looks at. */
    public static final int PROBE_BYTES = ProbeBytes.HEAD_BYTES;

    /** The formats read, probed in this order. Raw is never probed: it is what no signature matched. */
    private static final List<ImageFormat> FORMATS = List.of(
            new Qcow2Format(),
            new VmdkFormat(),
            new OvaFormat(),
            new VhdxFormat(),
            new VdiFormat(),
            new ParallelsFormat(),
            new VhdFormat(),
            new EwfFormat(),
            new RawFormat());
    private static final ImageFormat RAW = FORMATS.get(FORMATS.size() - 1);

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

    /**
     * Opens {@code path} with {@code backing} (the already open disk of the file {@code backingPath})
     * as its backing disk instead of the file its header names, which must be that same file: an
     * overlay over the disk the user chose, with that disk's options (format, evidence layers). The
     * returned disk owns {@code backing}; so does the failure: {@code backing} is closed either way.
     */
    public static VirtualDisk openOver(Path path, OpenOptions options, Path backingPath, VirtualDisk backing,
            Consumer<String> warnings) throws IOException {
        OpenContext.BackingSubstitute substitute = new OpenContext.BackingSubstitute(backingPath, backing);
        String name = path.toString();
        try {
            return open(path, name, null, OpenContext.top(options, path, name, warnings, substitute));
        } catch (IOException | RuntimeException e) {
            if (!substitute.taken()) {
                backing.close();
            }
            throw e;
        }
    }

    /**
     * Opens {@code path}'s own layer, leaving its backing file unopened: what the image itself holds
     * maps as data and zeros, the rest as holes (UNALLOCATED). For merging a layer into its backing file.
     */
    public static VirtualDisk openLayer(Path path, OpenOptions options, Consumer<String> warnings)
            throws IOException {
        String name = path.toString();
        OpenContext.BackingSubstitute none = new OpenContext.BackingSubstitute(null, null);
        return open(path, name, null, OpenContext.top(options, path, name, warnings, none));
    }

    static VirtualDisk open(Path path, String name, String formatName, OpenContext context) throws IOException {
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve(BUNDLE_DESCRIPTOR))) {
            // A Parallels bundle (a .hdd directory) is read through its descriptor.
            return open(path.resolve(BUNDLE_DESCRIPTOR), name + "/" + BUNDLE_DESCRIPTOR, formatName, context);
        }
        Storage storage = context.openFile(path, name, context.isTop() && context.options().writable());
        try {
            String forced = context.isTop() ? context.options().format() : formatName;
            ImageFormat format = forced == null ? probe(storage) : byName(storage.name(), forced);
            if (context.isTop() && context.options().snapshot() != null && !format.hasSnapshots()) {
                throw new ImageException(name, format.name() + " images have no internal snapshots (--snapshot "
                        + context.options().snapshot() + ")");
            }
            if (context.isTop() && context.options().disk() != 0 && !format.holdsSeveralDisks()) {
                throw new ImageException(name, "a " + format.name() + " image is one disk: --disk "
                        + context.options().disk() + " is for containers of several disks (OVA)");
            }
            VirtualDisk disk = format.open(storage, context);
            return disk instanceof EvidenceContainer evidence && forced == null ? inside(evidence, context) : disk;
        } catch (IOException | RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    /**
     * The image format held as the evidence's media, if any (a VMDK acquired as a file into an E01),
     * opened on the media's bytes; otherwise the evidence itself. A partition table or a file
     * system is not an image format: that evidence is the disk.
     */
    private static VirtualDisk inside(EvidenceContainer evidence, OpenContext context) throws IOException {
        DiskStorage media = new DiskStorage(evidence, evidence.info().name() + " (media)");
        ImageFormat inner = null;
        ProbeBytes bytes;
        try {
            bytes = ProbeBytes.read(media);
        } catch (IOException e) {
            // Damaged evidence still opens as itself: info shows its record, and reading the damaged
            // chunk (verify, cat) is the one-line error that names it.
            return evidence;
        }
        for (ImageFormat f : FORMATS) {
            if (f != RAW && f.probe(bytes)) {
                inner = f;
                break;
            }
        }
        if (inner == null) {
            return evidence;
        }
        try {
            return new NestedDisk(evidence, inner.open(media, context));
        } catch (IOException | RuntimeException e) {
            evidence.close();
            if (e instanceof ImageException bad) {
                throw new ImageException(evidence.info().name(), "its media is a " + inner.name()
                        + " image that cannot be read (--format " + evidence.info().format()
                        + " reads the media itself): " + bad.reason(), e);
            }
            throw e;
        }
    }

    /**
     * The format whose signature {@code storage} carries; raw when no known signature matches. A
     * format vdmount recognises but does not read is refused by name, never read as raw.
     */
    public static ImageFormat probe(Storage storage) throws IOException {
        ProbeBytes bytes = ProbeBytes.read(storage);
        for (ImageFormat format : FORMATS) {
            if (format != RAW && format.probe(bytes)) {
                return format;
            }
        }
        String unsupported = UnsupportedFormats.recognise(bytes);
        if (unsupported != null) {
            throw new ImageException(storage.name(), "is " + unsupported + ": not supported"
                    + " (--format raw reads the file's own bytes as the disk)");
        }
        return RAW;
    }

    /** The format called {@code name} (or one of its aliases), as --format or a parent image gives it. */
    public static ImageFormat byName(String file, String name) throws ImageException {
        String wanted = name.toLowerCase(Locale.ROOT);
        Optional<ImageFormat> match = FORMATS.stream()
                .filter(f -> f.name().equals(wanted) || f.aliases().contains(wanted))
                .findFirst();
        return match.orElseThrow(() -> new ImageException(file, "format '" + name + "' is not supported ("
                + String.join(", ", formatNames()) + " are)"));
    }

    /** The names of the formats read, as --format takes them, in alphabetical order. */
    public static List<String> formatNames() {
        return FORMATS.stream().map(ImageFormat::name).sorted().toList();
    }
}
