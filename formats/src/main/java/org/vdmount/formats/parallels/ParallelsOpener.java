package org.vdmount.formats.parallels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vdmount.formats.Concatenation;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;

/**
 * Opens a Parallels image: one expanding image file alone, or a bundle through its
 * DiskDescriptor.xml: the snapshot to read (the descriptor's TopGUID, else the one leaf of the
 * snapshot tree), its chain down to the base, and for each snapshot a layer of its storages' image
 * files laid end to end, each layer over the one below.
 */
final class ParallelsOpener {
    private static final int MAX_SNAPSHOTS = 1000;

    private final Storage storage;
    private final OpenContext context;
    private final String file;

    ParallelsOpener(Storage storage, OpenContext context) {
        this.storage = storage;
        this.context = context;
        this.file = storage.name();
    }

    VirtualDisk open() throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(storage.size(), ParallelsHeader.SIZE));
        storage.readFully(head, 0);
        if (ParallelsHeader.hasMagic(head.flip())) {
            return single();
        }
        return bundle();
    }

    private VirtualDisk single() throws IOException {
        ExpandingImage image = ExpandingImage.open(storage, -1);
        ParallelsHeader h = image.header();
        if (h.inUse()) {
            context.warn(file + ": the image was not closed cleanly (in use); reading it read-only anyway");
        }
        DiskInfo info = new DiskInfo(file, "parallels").subformat("expanding").virtualSize(image.ownSize())
                .fileSize(storage.size()).clusterSize((int) Math.min(Integer.MAX_VALUE, h.tracks() * 512));
        info.files().add(file);
        describe(info, h);
        return new ParallelsDisk(new Concatenation<>(List.of(image)), null, info, List.of(image));
    }

    private static void describe(DiskInfo info, ParallelsHeader h) {
        info.detail("header", h.extended() ? "WithouFreSpacExt (BAT in clusters)" : "WithoutFreeSpace (BAT in sectors)");
        info.detail("cluster-sectors", h.tracks());
        info.detail("bat-entries", h.batEntries());
        info.detail("dirty", h.inUse());
    }

    private VirtualDisk bundle() throws IOException {
        long size = storage.size();
        if (size > DiskDescriptor.MAX_BYTES) {
            throw new ImageException(file, "is " + size + " bytes: neither a Parallels image nor a disk descriptor");
        }
        byte[] xml = new byte[(int) size];
        storage.readFully(ByteBuffer.wrap(xml), 0);
        DiskDescriptor d = DiskDescriptor.parse(xml, file);
        checkStorages(d);
        List<String> chain = chain(d);
        VirtualDisk below = null;
        try {
            for (int i = chain.size() - 1; i >= 0; i--) {
                below = layer(d, chain.get(i), below, i == 0, chain);
            }
            storage.close();
            return below;
        } catch (IOException | RuntimeException e) {
            if (below != null) {
                below.close();
            }
            throw e;
        }
    }

    private void checkStorages(DiskDescriptor d) throws ImageException {
        if (d.storages().isEmpty()) {
            throw new ImageException(file, "DiskDescriptor.xml names no storage");
        }
        long at = 0;
        for (DiskDescriptor.StorageEntry s : d.storages()) {
            if (s.start() != at || s.end() <= s.start()) {
                throw new ImageException(file, "DiskDescriptor.xml: storage " + s.start() + "-" + s.end()
                        + " does not continue the disk at sector " + at);
            }
            at = s.end();
        }
        if (at != d.diskSectors()) {
            throw new ImageException(file, "DiskDescriptor.xml: the storages cover " + at + " sectors, the disk has "
                    + d.diskSectors());
        }
    }

    /** The snapshots to read, the top first, down to the base. */
    private List<String> chain(DiskDescriptor d) throws ImageException {
        Map<String, String> parents = new HashMap<>();
        for (DiskDescriptor.Shot s : d.shots()) {
            parents.put(s.guid(), s.parent());
        }
        String top = d.topGuid();
        if (top == null) {
            Set<String> leaves = new HashSet<>(parents.keySet());
            parents.values().forEach(leaves::remove);
            if (leaves.size() > 1) {
                throw new ImageException(file, "DiskDescriptor.xml has several current snapshots and no TopGUID: "
                        + String.join(", ", leaves));
            }
            top = leaves.isEmpty() ? d.storages().get(0).images().isEmpty() ? null
                    : d.storages().get(0).images().get(0).guid() : leaves.iterator().next();
        }
        if (top == null) {
            throw new ImageException(file, "DiskDescriptor.xml names no image");
        }
        List<String> chain = new ArrayList<>();
        for (String g = top; g != null && !g.equals(DiskDescriptor.ZERO_GUID); g = parents.get(g)) {
            if (chain.contains(g) || chain.size() >= MAX_SNAPSHOTS) {
                throw new ImageException(file, "DiskDescriptor.xml: the snapshot tree loops at {" + g + "}");
            }
            chain.add(g);
        }
        return chain;
    }

    /** One snapshot's layer: each storage's image of that snapshot, over {@code below}. */
    private VirtualDisk layer(DiskDescriptor d, String guid, VirtualDisk below, boolean top, List<String> chain)
            throws IOException {
        List<Concatenation.Part> parts = new ArrayList<>();
        List<AutoCloseable> closeables = new ArrayList<>();
        DiskInfo info = new DiskInfo(top ? file : file + " (snapshot {" + guid + "})", "parallels")
                .subformat("bundle").virtualSize(d.diskSectors() * 512);
        long fileBytes = 0;
        if (top) {
            info.files().add(file);
            fileBytes += storage.size();
        }
        try {
            for (DiskDescriptor.StorageEntry s : d.storages()) {
                DiskDescriptor.ImageEntry image = s.images().stream().filter(i -> guid.equals(i.guid())).findFirst()
                        .orElseThrow(() -> new ImageException(file, "DiskDescriptor.xml: storage " + s.start() + "-"
                                + s.end() + " has no image of snapshot {" + guid + "}"));
                Path path = context.find(storage, RelatedFile.of("image file", String.valueOf(image.file()))
                        .exact(String.valueOf(image.file()), "DiskDescriptor.xml")
                        .wantedBy("named by DiskDescriptor.xml for sectors " + s.start() + "-" + s.end()));
                Storage opened = context.openFile(path, path.toString(), false);
                closeables.add(opened);
                info.files().add(opened.name());
                fileBytes += opened.size();
                long length = (s.end() - s.start()) * 512;
                if ("Plain".equalsIgnoreCase(image.type())) {
                    parts.add(new PlainPart(opened, length));
                } else {
                    ExpandingImage expanding = ExpandingImage.open(opened, length);
                    closeables.set(closeables.size() - 1, expanding);
                    parts.add(expanding);
                    if (info.clusterSize() == 0) {
                        info.clusterSize((int) Math.min(Integer.MAX_VALUE, expanding.header().tracks() * 512));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : closeables) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // already failing
                }
            }
            throw e;
        }
        info.fileSize(fileBytes);
        info.detail("snapshot", "{" + guid + "}");
        info.detail("storages", d.storages().size());
        if (top) {
            info.detail("snapshots-below", chain.size() - 1);
        }
        return new ParallelsDisk(new Concatenation<>(parts), below, info, closeables);
    }
}
