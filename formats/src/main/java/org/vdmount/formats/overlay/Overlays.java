package org.vdmount.formats.overlay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.qcow2.Qcow2Backing;
import org.vdmount.formats.qcow2.Qcow2Create;

/**
 * Overlay files: standard qcow2 images whose backing file is the image they take the writes of
 * (its absolute path, with {@code backing_fmt} as qemu names the image's format), so that
 * {@code qemu-img info}, {@code convert}, {@code commit} and {@code qemu-system} read them too. An
 * image qemu cannot read as vdmount does (E01, split raw, OVA) gets the backing format
 * {@value OpenContext#PROBED_BACKING_FORMAT}: qemu then refuses the chain instead of misreading it,
 * and vdmount recognises the backing file by its content.
 */
public final class Overlays {
    private Overlays() {
    }

    /**
     * Opens {@code overlay} for writing over {@code base} (the open disk of {@code image}): creates
     * it when it does not exist or is empty, otherwise checks that it is a qcow2 overlay of this
     * very image. The returned disk owns {@code base}, and {@code base} is closed on failure too.
     */
    public static VirtualDisk open(Path image, VirtualDisk base, Path overlay, Consumer<String> warnings)
            throws IOException {
        try {
            if (!Files.exists(overlay) || Files.isRegularFile(overlay) && Files.size(overlay) == 0) {
                create(image, base, overlay, warnings);
            } else {
                check(image, base, overlay);
            }
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        }
        OpenOptions writable = new OpenOptions(null, 0, true, "qcow2");
        return Images.openOver(overlay, writable, image.toAbsolutePath(), base, warnings);
    }

    /** The backing format an overlay of {@code image} records. */
    static String backingFormat(VirtualDisk base, Path image) {
        String qemu = QemuFormatNames.of(base, image);
        return qemu != null ? qemu : OpenContext.PROBED_BACKING_FORMAT;
    }

    private static void create(Path image, VirtualDisk base, Path overlay, Consumer<String> warnings)
            throws IOException {
        if (base.size() % 512 != 0) {
            throw new ImageException(image.toString(), "is " + base.size() + " bytes, not a whole number of "
                    + "512-byte sectors: a qcow2 overlay cannot have that size");
        }
        String format = backingFormat(base, image);
        Qcow2Create.create(overlay, base.size(), image.toAbsolutePath().normalize().toString(), format);
        if (format.equals(OpenContext.PROBED_BACKING_FORMAT)) {
            warnings.accept(overlay + ": qemu cannot read " + image + " (" + base.info().format()
                    + "), so only vdmount opens this overlay (its backing format is '" + format + "')");
        }
    }

    /** The retired overlay format's magic: its files are refused, with the way to their data. */
    private static final byte[] RETIRED_MAGIC = "VDMOUNT-OVERLAY\0".getBytes(StandardCharsets.US_ASCII);

    private static void refuseRetired(FileStorage storage, Path image) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(RETIRED_MAGIC.length);
        storage.readAt(head, 0);
        if (Arrays.equals(head.array(), RETIRED_MAGIC)) {
            throw new ImageException(storage.name(), "is an overlay in vdmount's retired format, which this version"
                    + " no longer reads: attach " + image + " with it using the vdmount build that wrote it and copy"
                    + " the disk out (see the README, Overlays), or start a new overlay under another name");
        }
    }

    /** An existing overlay must be a qcow2 image whose backing file is {@code image}, of its size and format. */
    static void check(Path image, VirtualDisk base, Path overlay) throws IOException {
        String name = overlay.toString();
        Qcow2Backing header;
        try (FileStorage storage = FileStorage.openReadOnly(overlay, name)) {
            refuseRetired(storage, image);
            ImageFormat format = Images.probe(storage);
            if (!format.name().equals("qcow2")) {
                throw new ImageException(name, "is a " + format.name() + " file, not a qcow2 overlay: give a new file"
                        + " name to start an overlay");
            }
            header = Qcow2Backing.read(storage);
        }
        if (header.file() == null) {
            throw new ImageException(name, "is a qcow2 image without a backing file, not an overlay of " + image);
        }
        Path named = Path.of(header.file());
        Path backing = named.isAbsolute() ? named : overlay.toAbsolutePath().getParent().resolve(named);
        if (!Files.exists(backing) || !Files.isSameFile(backing, image)) {
            throw new ImageException(name, "is an overlay of " + header.file() + ", not of " + image);
        }
        String expected = backingFormat(base, image);
        String stored = header.format();
        if (stored != null && !stored.equals(expected) && !stored.equals(OpenContext.PROBED_BACKING_FORMAT)) {
            throw new ImageException(name, "records the backing format '" + stored + "', but " + image
                    + " is read as " + expected);
        }
        if (header.virtualSize() != base.size()) {
            throw new ImageException(name, "is an overlay of " + header.virtualSize() + " bytes, but " + image
                    + " is " + base.size() + " bytes");
        }
    }
}
