package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;

/** One image format: recognises its files by content and opens them. */
public interface ImageFormat {

    /** The name users see and give as a backing format: "raw", "qcow2", "vmdk". */
    String name();

    /**
     * Whether {@code head} (the first bytes of the file, up to {@link Images#PROBE_BYTES}, fewer if
     * the file is shorter) looks like this format. Never by file name.
     */
    boolean probe(ByteBuffer head);

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
