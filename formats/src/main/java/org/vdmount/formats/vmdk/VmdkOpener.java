package org.vdmount.formats.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.cache.TableCache;
import org.vdmount.formats.io.FileStorage;

/** Opens one VMDK file: finds its descriptor, opens every extent and the parent, builds the info. */
final class VmdkOpener {
    private final Storage storage;
    private final OpenContext context;
    private final TableCache tables = TableCache.shared();
    private final List<Extent> extents = new ArrayList<>();
    private final List<ExtentLine> lines = new ArrayList<>();
    private final List<Closeable> others = new ArrayList<>();
    private final Set<String> files = new LinkedHashSet<>();
    /** Whether writes were asked for: the top image only; a parent is always read-only. */
    private final boolean writable;
    private long fileBytes;

    VmdkOpener(Storage storage, OpenContext context) {
        this.storage = storage;
        this.context = context;
        this.writable = context.isTop() && context.options().writable();
    }

    VirtualDisk open() throws IOException {
        VirtualDisk parent = null;
        boolean storageUsed = false;
        try {
            files.add(storage.name());
            fileBytes += storage.size();
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(16, storage.size())).order(ByteOrder.LITTLE_ENDIAN);
            storage.readFully(head, 0);
            head.flip();
            int magic = head.remaining() >= 4 ? head.getInt(0) : 0;
            Descriptor descriptor;
            DiskInfo info;
            long descriptorAt = 0;
            long descriptorRoom = 0;
            if (magic == SparseHeader.MAGIC) {
                SparseHeader header = SparseHeader.read(storage);
                byte[] embedded = header.hasDescriptor() ? embeddedDescriptor(header) : null;
                if (embedded != null && !Descriptor.blank(embedded)) {
                    descriptor = Descriptor.parse(embedded, storage.name());
                    descriptorAt = header.descriptorOffset() * 512;
                    descriptorRoom = embedded.length;
                    storageUsed = openExtents(descriptor, true);
                } else {
                    descriptor = null;
                    extents.add(hosted(storage, header, header.capacity() * 512));
                    lines.add(null);
                    storageUsed = true;
                }
            } else if (magic == CowdExtent.MAGIC) {
                descriptor = null;
                extents.add(CowdExtent.open(storage, -1, tables));
                lines.add(null);
                storageUsed = true;
            } else if (head.remaining() >= 8 && head.getLong(0) == SeSparseExtent.MAGIC) {
                descriptor = null;
                extents.add(SeSparseExtent.open(storage, -1, tables));
                lines.add(null);
                storageUsed = true;
            } else {
                byte[] text = textDescriptor();
                descriptor = Descriptor.parse(text, storage.name());
                descriptorRoom = text.length;
                storageUsed = openExtents(descriptor, false);
            }
            if (writable) {
                refuseUnwritable();
            }
            if (!storageUsed) {
                others.add(storage);
            }
            if (descriptor != null && descriptor.parentFileNameHint() != null) {
                parent = openParent(descriptor);
            }
            info = VmdkInfo.describe(storage.name(), descriptor, extents, lines, parent, files, fileBytes);
            ContentId cid = !writable ? null : descriptor == null ? ContentId.none()
                    : new ContentId(storage, descriptorAt, descriptorRoom, info);
            return new VmdkDisk(new Concatenation<>(extents), lines, parent, info, others, cid);
        } catch (IOException | RuntimeException e) {
            for (Extent x : extents) {
                closeQuietly(x);
            }
            for (Closeable c : others) {
                closeQuietly(c);
            }
            if (!storageUsed) {
                closeQuietly(storage);
            }
            if (parent != null) {
                closeQuietly(parent);
            }
            throw e;
        }
    }

    private byte[] embeddedDescriptor(SparseHeader header) throws IOException {
        long at = header.descriptorOffset() * 512;
        long bytes = header.descriptorSize() * 512;
        long size = storage.size();
        if (at >= size || bytes > size - at) {
            throw new ImageException(storage.name(), "embedded descriptor at sector " + header.descriptorOffset()
                    + " (" + header.descriptorSize() + " sectors) lies outside the file (" + size + " bytes)");
        }
        byte[] out = new byte[(int) bytes];
        storage.readFully(ByteBuffer.wrap(out), at);
        return out;
    }

    private byte[] textDescriptor() throws IOException {
        long size = storage.size();
        if (size > Descriptor.MAX_BYTES) {
            throw new ImageException(storage.name(), "descriptor is " + size + " bytes; a VMDK descriptor is at most "
                    + Descriptor.MAX_BYTES + " bytes");
        }
        byte[] out = new byte[(int) size];
        storage.readFully(ByteBuffer.wrap(out), 0);
        return out;
    }

    /**
     * Opens the extents the descriptor lists. An embedded descriptor with one sparse extent
     * describes the file that holds it, whatever name it gives (the file may have been renamed).
     * Returns whether {@link #storage} became an extent.
     */
    private boolean openExtents(Descriptor descriptor, boolean embedded) throws IOException {
        List<ExtentLine> all = descriptor.extents();
        boolean self = embedded && all.size() == 1 && all.get(0).sparse();
        for (ExtentLine line : all) {
            long length = line.sectors() * 512;
            Extent extent;
            if (line.noAccess()) {
                extent = SimpleExtent.noAccess(length);
            } else if (line.zero()) {
                extent = SimpleExtent.zero(length);
            } else {
                Storage file = self ? storage : openExtentFile(line);
                try {
                    extent = line.flat() ? flat(line, file, length) : sparse(file, length);
                } catch (IOException | RuntimeException e) {
                    if (!self) {
                        closeQuietly(file);
                    }
                    throw e;
                }
            }
            extents.add(extent);
            lines.add(line);
        }
        return self;
    }

    private Extent flat(ExtentLine line, Storage file, long length) throws IOException {
        long start = line.offset() * 512;
        String unwritable = null;
        if (!line.type().equals("FLAT") && !line.type().equals("VMFS")) {
            unwritable = "it is a raw device map (" + line.type() + "), which vdmount does not write";
        } else if (!line.access().equals("RW")) {
            unwritable = "the descriptor marks it " + line.access() + " (" + line.cite() + ")";
        }
        return SimpleExtent.flat(length, file, start, unwritable);
    }

    /**
     * Refuses, when writes were asked for, a disk whose RW extents cannot take them (streamOptimized,
     * vmfsSparse, seSparse, raw device maps), naming the file and the way that works instead.
     * Extents the descriptor itself marks RDONLY, NOACCESS or ZERO are no reason to refuse: a write
     * that reaches one fails, as it would in VMware.
     */
    private void refuseUnwritable() throws ImageException {
        for (int i = 0; i < extents.size(); i++) {
            ExtentLine line = lines.get(i);
            if (line != null && (!line.access().equals("RW") || line.zero())) {
                continue;
            }
            String why = extents.get(i).unwritable();
            if (why != null) {
                throw new ImageException(extents.get(i).toString(), "cannot be written in place: " + why
                        + "; --overlay FILE keeps the writes in a separate file");
            }
        }
    }

    /** A sparse extent of any kind: the file's magic says which, whatever the descriptor's type word. */
    private Extent sparse(Storage file, long length) throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(8, file.size())).order(ByteOrder.LITTLE_ENDIAN);
        file.readFully(head, 0);
        head.flip();
        int magic = head.remaining() >= 4 ? head.getInt(0) : 0;
        if (magic == SparseHeader.MAGIC) {
            return hosted(file, SparseHeader.read(file), length);
        }
        if (magic == CowdExtent.MAGIC) {
            return CowdExtent.open(file, length, tables);
        }
        if (head.remaining() >= 8 && head.getLong(0) == SeSparseExtent.MAGIC) {
            return SeSparseExtent.open(file, length, tables);
        }
        throw new ImageException(file.name(), "not a sparse extent: no KDMV, COWD or seSparse magic");
    }

    /** A hosted sparse extent; a stream cut short (no footer) is walked marker by marker instead. */
    private Extent hosted(Storage file, SparseHeader header, long length) throws IOException {
        if (header.gdOffset() != SparseHeader.GD_AT_END) {
            return HostedSparseExtent.open(file, header, length, tables);
        }
        ScannedStreamExtent scanned = ScannedStreamExtent.open(file, header, length, tables);
        context.warn(file.name() + ": the streamOptimized file has no footer (cut short?); walked the stream and found "
                + scanned.grainsFound() + " grains" + (scanned.complete() ? ", up to its end-of-stream marker"
                : scanned.readableBytes() >= length ? ", up to the last grain of the disk"
                : "; the disk from offset " + scanned.readableBytes() + " on cannot be read"));
        return scanned;
    }

    private Storage openExtentFile(ExtentLine line) throws IOException {
        if (line.file() == null || line.file().isEmpty()) {
            throw new ImageException(storage.name(), "extent has no file name: " + line.cite());
        }
        Path path = context.find(storage, RelatedFile.of("extent file", line.file())
                .written(line.file(), null)
                .wantedBy("wanted by " + line.cite()));
        boolean written = writable && line.access().equals("RW");
        // Locked as qemu locks a VMDK's files: the descriptor (its CID changes when written) when it
        // was opened, and here every extent, for writing when written.
        Storage file = context.openFile(path, path.toString(), written);
        files.add(file.name());
        fileBytes += file.size();
        return file;
    }

    /**
     * The parent of a snapshot delta, found through parentFileNameHint. VMware writes absolute host
     * paths ("C:\VMs\base.vmdk"); evidence copies keep only the directory's contents, so the same
     * file name next to the child is tried too. A CID that does not match is only a warning: VMware
     * itself reads on.
     */
    private VirtualDisk openParent(Descriptor descriptor) throws IOException {
        String hint = descriptor.parentFileNameHint();
        VirtualDisk parent = context.open(storage, RelatedFile.of("parent disk", hint)
                .written(hint, null)
                .wantedBy("named by parentFileNameHint=\"" + hint + "\""));
        long wanted = descriptor.cid("parentCID");
        Object parentCid = parent.info().details().get("cid");
        if (wanted >= 0 && wanted != Descriptor.NO_PARENT && parentCid != null) {
            long actual;
            try {
                actual = Long.parseLong(parentCid.toString(), 16);
            } catch (NumberFormatException e) {
                actual = -1;
            }
            if (actual != wanted) {
                context.warn(storage.name() + ": parentCID " + Long.toHexString(wanted) + " does not match CID "
                        + parentCid + " of its parent " + parent.info().name()
                        + ": the parent changed after this snapshot was taken; reading on");
            }
        }
        return parent;
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing; the first error is the one to report
        }
    }
}
