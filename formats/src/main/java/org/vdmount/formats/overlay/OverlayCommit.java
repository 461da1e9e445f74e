package org.vdmount.formats.overlay;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.vdmount.formats.EvidenceContainer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.Images;
import org.vdmount.formats.NestedDisk;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.io.ImageLock;
import org.vdmount.formats.qcow2.Qcow2Backing;
import org.vdmount.formats.qcow2.Qcow2Create;

/**
 * Merges a qcow2 overlay into its backing file, as {@code qemu-img commit} does: every stretch the
 * overlay itself holds (data, compressed or zero clusters; nothing else is read) is written into the
 * backing image, which is then flushed; after that the overlay is emptied (made anew with the same
 * backing file), unless asked to keep it.
 *
 * <p>A crash part way leaves the backing image consistent as its format's writer keeps it, holding
 * some of the overlay's writes and not others; the overlay is untouched until the backing image is
 * flushed, so the chain still reads exactly as before and committing again finishes the job. The
 * backing image must be one vdmount writes in place (raw, and what the format writers add); evidence
 * (E01, split raw, an image inside evidence) is never written.
 */
public final class OverlayCommit {
    /** Pieces copied at a time: large enough for throughput, small enough for memory. */
    private static final int PIECE = 1 << 20;

    /** What a commit did. */
    public record Result(Path overlay, Path backing, String backingFormat, long dataBytes, long zeroBytes,
            boolean emptied) {
    }

    /** Reports the bytes to merge once, then the bytes merged as it goes. */
    public interface Progress {
        /** For callers that show nothing. */
        Progress NONE = new Progress() {
            @Override
            public void start(long totalBytes) {
            }

            @Override
            public void advance(long bytes) {
            }
        };

        void start(long totalBytes);

        void advance(long bytes);
    }

    private final Path overlay;
    private final Consumer<String> warnings;
    private final Qcow2Backing header;
    private final Path backing;

    private OverlayCommit(Path overlay, Consumer<String> warnings) throws IOException {
        this.overlay = overlay;
        this.warnings = warnings;
        this.header = readHeader(overlay);
        Path named = Path.of(header.file());
        this.backing = named.isAbsolute() ? named : overlay.toAbsolutePath().getParent().resolve(named);
    }

    /** The backing file {@code overlay} would be committed into, checked to be an overlay at all. */
    public static Path backingOf(Path overlay) throws IOException {
        return new OverlayCommit(overlay, w -> { }).backing;
    }

    /** Merges {@code overlay} into its backing file; empties it afterwards unless {@code keep}. */
    public static Result commit(Path overlay, boolean keep, Progress progress, Consumer<String> warnings)
            throws IOException {
        return new OverlayCommit(overlay, warnings).run(keep, progress);
    }

    private static Qcow2Backing readHeader(Path overlay) throws IOException {
        String name = overlay.toString();
        try (FileStorage storage = FileStorage.openReadOnly(overlay, name)) {
            ImageFormat format = Images.probe(storage);
            if (!format.name().equals("qcow2")) {
                throw new ImageException(name, "is a " + format.name() + " image, not a qcow2 overlay: there is"
                        + " nothing to commit");
            }
            Qcow2Backing header = Qcow2Backing.read(storage);
            if (header.file() == null) {
                throw new ImageException(name, "has no backing file: there is nothing to commit it into");
            }
            return header;
        }
    }

    /**
     * The whole commit holds the overlay's writer lock (qemu's lock bytes): nobody, qemu or vdmount,
     * may write the overlay while it is merged and emptied, and one that writes it now is refused.
     */
    private Result run(boolean keep, Progress progress) throws IOException {
        try (ImageLock lock = ImageLock.take(overlay, overlay.toString(), ImageLock.Use.WRITE, warnings)) {
            return merge(keep, progress);
        }
    }

    private Result merge(boolean keep, Progress progress) throws IOException {
        String declared = header.format() == null || header.format().equals(OpenContext.PROBED_BACKING_FORMAT)
                ? null : header.format();
        long baseSize = refuseUnwritable(declared);
        if (header.virtualSize() > baseSize) {
            growBacking(declared, baseSize);
        }
        long[] bytes = new long[2];
        String backingFormat;
        // The layer is read under the writer lock run() holds; a reader's lock of its own would meet it.
        try (VirtualDisk top = Images.openLayer(overlay, OpenOptions.readOnly().withFormat("qcow2").withForceShare(true),
                warnings);
                VirtualDisk base = Images.open(backing, new OpenOptions(null, 0, true, declared), warnings)) {
            backingFormat = base.info().format();
            if (!base.writable()) {
                throw new ImageException(backing.toString(), "vdmount cannot write " + backingFormat
                        + " images yet, so it cannot commit into one (qemu-img commit can, for formats qemu writes)");
            }
            if (top.size() > base.size()) { // grown by someone else since it was looked at
                throw new ImageException(backing.toString(), "changed size during the commit");
            }
            if (!keep && !top.info().snapshots().isEmpty()) {
                throw new ImageException(overlay.toString(), "has internal snapshots, which emptying it would lose:"
                        + " commit with --keep");
            }
            progress.start(ownBytes(top));
            top.map(0, top.size(), run -> merge(top, base, run, bytes, progress));
            base.flush();
        }
        if (!keep) {
            try {
                empty(backingFormat);
            } catch (ImageException e) {
                throw new ImageException(overlay.toString(), "committed into " + backing + ", but not emptied: "
                        + e.reason(), e);
            }
        }
        return new Result(overlay, backing, backingFormat, bytes[0], bytes[1], !keep);
    }

    /**
     * Evidence and formats vdmount has no writer for are refused after a read-only look, before the
     * backing file is ever opened for writing. Returns the backing image's size.
     */
    private long refuseUnwritable(String declared) throws IOException {
        try (VirtualDisk look = Images.open(backing, OpenOptions.readOnly().withFormat(declared), warnings)) {
            if (look instanceof EvidenceContainer || look instanceof NestedDisk) {
                throw new ImageException(backing.toString(), "is evidence (" + look.info().format()
                        + "), which vdmount never writes: copy the overlay's view out instead (vdmount cat, or"
                        + " attach with --overlay and copy the device)");
            }
            return look.size();
        }
    }

    /**
     * An overlay larger than its backing image (grown with qemu-img resize) needs a larger image, as
     * qemu-img commit makes it: a raw file is lengthened (the new end reads as zeros, as it read
     * through the overlay); other formats are left for qemu-img resize, which rewrites their tables.
     * An overlay smaller than its image needs nothing: its range is merged, the rest stays as it was.
     */
    private void growBacking(String declared, long baseSize) throws IOException {
        String format;
        boolean plainFile;
        try (VirtualDisk look = Images.open(backing, OpenOptions.readOnly().withFormat(declared), warnings)) {
            format = look.info().format();
            plainFile = look.info().files().size() == 1;
        }
        long size = header.virtualSize();
        if (!format.equals("raw") || !plainFile) {
            throw new ImageException(overlay.toString(), "is " + size + " bytes but its backing file " + backing
                    + " is " + baseSize + " bytes, and vdmount grows only raw files: grow it first ("
                    + "qemu-img resize -f " + format + " " + backing + " " + size + "), then commit");
        }
        try (ImageLock lock = ImageLock.take(backing, backing.toString(), ImageLock.Use.WRITE, warnings);
                RandomAccessFile file = new RandomAccessFile(backing.toFile(), "rw")) {
            if (file.length() < size) {
                file.setLength(size);
            }
        }
    }

    /** The bytes the overlay itself holds: what the progress counts to. */
    private static long ownBytes(VirtualDisk top) throws IOException {
        long[] total = {0};
        top.map(0, top.size(), run -> {
            if (run.kind() != RunKind.UNALLOCATED) {
                total[0] += run.length();
            }
        });
        return total[0];
    }

    private static void merge(VirtualDisk top, VirtualDisk base, Run run, long[] bytes, Progress progress)
            throws IOException {
        switch (run.kind()) {
            case UNALLOCATED -> {
                return; // not in the overlay: the backing image already has it
            }
            case ZERO -> {
                base.discard(run.offset(), run.length());
                bytes[1] += run.length();
                progress.advance(run.length());
            }
            case DATA, COMPRESSED -> {
                ByteBuffer piece = ByteBuffer.allocate((int) Math.min(PIECE, run.length()));
                for (long at = run.offset(); at < run.end(); ) {
                    int n = (int) Math.min(piece.capacity(), run.end() - at);
                    piece.clear().limit(n);
                    top.read(piece, at);
                    piece.flip();
                    base.write(piece, at);
                    at += n;
                    bytes[0] += n;
                    progress.advance(n);
                }
            }
            default -> throw new ImageException(top.info().name(), "range at offset " + run.offset()
                    + " cannot be read (" + run.kind() + ")");
        }
    }

    /** Makes the overlay anew over the same backing file, as qemu-img commit empties it. */
    private void empty(String backingFormat) throws IOException {
        String format = header.format() != null ? header.format() : backingFormat;
        if (!Files.isRegularFile(overlay)) {
            throw new ImageException(overlay.toString(), "is not a regular file: committed, but not emptied");
        }
        Qcow2Create.create(overlay, header.virtualSize(), header.file(), format);
    }
}
