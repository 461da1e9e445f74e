package org.vdmount.formats.split;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.EvidenceContainer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;

/**
 * A raw disk split into files of one size (the last may be shorter), read as one disk from its
 * first file. Evidence: read-only always. The files are laid end to end by the shared
 * {@link Concatenation}.
 */
public final class SplitRawDisk extends AbstractVirtualDisk implements EvidenceContainer {
    /** More files than this is not a split image anyone made. */
    private static final int MAX_SEGMENTS = 100_000;

    private record Segment(Storage storage, long length) implements Concatenation.Part {
        @Override
        public void map(long offset, long length, long base, RunSink sink) throws IOException {
            sink.accept(Run.data(base + offset, length, storage, offset));
        }
    }

    private final Concatenation<Segment> parts;
    private final DiskInfo info;

    private SplitRawDisk(Concatenation<Segment> parts, String name, long segmentBytes) {
        super(parts.size(), null);
        this.parts = parts;
        this.info = new DiskInfo(name, "raw").subformat("split").virtualSize(parts.size()).fileSize(parts.size());
        info.detail("segments", (long) parts.count());
        info.detail("segment-size", segmentBytes);
        for (Segment s : parts.parts()) {
            info.files().add(s.storage().name());
        }
    }

    /**
     * The split image whose first file is {@code first}, or null when {@code first} is not the
     * first of a set (no NAME.002 / NAME.ab beside it): then it is a plain raw file.
     */
    public static VirtualDisk openIfSplit(Storage first, OpenContext context) throws IOException {
        Path path = first.path().orElse(null);
        if (path == null || !Files.isRegularFile(path)) {
            return null;
        }
        SplitNames names = SplitNames.ofFirst(path.getFileName().toString());
        if (names == null || !Files.isRegularFile(path.resolveSibling(names.name(1)))) {
            return null;
        }
        if (context.isTop() && context.options().writable()) {
            throw new ImageException(first.name(), "is the first file of a split raw image, evidence that is"
                    + " read-only: --rw is refused (--overlay keeps changes in a file of their own)");
        }
        String prefix = first.name().substring(0, first.name().length() - path.getFileName().toString().length());
        List<Segment> segments = new ArrayList<>();
        segments.add(new Segment(first, first.size()));
        try {
            long limit = Math.min(MAX_SEGMENTS, names.capacity());
            long index = 1;
            for (; index < limit; index++) {
                Path next = path.resolveSibling(names.name(index));
                if (!Files.isRegularFile(next)) {
                    break;
                }
                // Not locked: the first file, locked as the image, stands for the set (OpenContext.openFile).
                Storage s = FileStorage.openReadOnly(next, prefix + names.name(index));
                segments.add(new Segment(s, s.size()));
            }
            // A gap is a missing file, not the end: look a little further.
            for (long later = index + 1; later < Math.min(limit, index + 3); later++) {
                if (Files.exists(path.resolveSibling(names.name(later)))) {
                    throw new ImageException(first.name(), "split raw image: " + prefix + names.name(index)
                            + " is missing, but " + prefix + names.name(later) + " exists");
                }
            }
            long size = segments.get(0).length();
            for (int i = 0; i < segments.size(); i++) {
                Segment s = segments.get(i);
                boolean last = i == segments.size() - 1;
                if (last ? s.length() > size || s.length() == 0 : s.length() != size) {
                    throw new ImageException(s.storage().name(), "split raw image: this file is " + s.length()
                            + " bytes, but " + (last ? "the last may be at most" : "every file but the last must be")
                            + " the first's " + size + " bytes (a file is truncated or does not belong)");
                }
            }
            return new SplitRawDisk(new Concatenation<>(segments), first.name(), size);
        } catch (IOException | RuntimeException e) {
            for (int i = 1; i < segments.size(); i++) {
                segments.get(i).storage().close();
            }
            throw e;
        }
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        parts.map(offset, length, sink);
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Segment s : parts.parts()) {
            try {
                s.storage().close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
