package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** One image format: recognises its files by content and opens them. */
public interface ImageFormat {

    /** The name users see and give to {@code --format} and as a backing format: "raw", "qcow2", "vhd". */
    String name();

    /** Other names the format goes by, as other tools write them ("vpc" for VHD). */
    default List<String> aliases() {
        return List.of();
    }

    /**
     * Whether {@code head} (the first bytes of the file, up to {@link ProbeBytes#HEAD_BYTES}, fewer
     * if the file is shorter) looks like this format. Never by file name.
     */
    boolean probe(ByteBuffer head);

    /**
     * Whether the file looks like this format, from its head and its last sector. Formats whose
     * signature may be at the end (fixed VHD) override this; the others look at the head only.
     */
    default boolean probe(ProbeBytes bytes) {
        return probe(bytes.head().duplicate());
    }

    /**
     * Opens the image in {@code storage}, which the returned disk then owns (and closes). Backing
     * files are opened through {@code context}, which resolves names and catches loops.
     */
    VirtualDisk open(Storage storage, OpenContext context) throws IOException;

    /** Whether images of this format can hold internal snapshots ({@link OpenOptions#snapshot}). */
    default boolean hasSnapshots() {
        return false;
    }

    /** Whether files of this format hold several disks to choose from ({@link OpenOptions#disk}), as an OVA does. */
    default boolean holdsSeveralDisks() {
        return false;
    }
}
