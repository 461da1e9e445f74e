package org.vdmount.formats.raw;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.split.SplitRawDisk;

/** A file or block device whose bytes are the disk's bytes. */
public final class RawFormat implements ImageFormat {

    @Override
    public String name() {
        return "raw";
    }

    /** Any bytes are a raw disk; probing chooses raw only when no other signature matches. */
    @Override
    public boolean probe(ByteBuffer head) {
        return true;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        // NAME.001 with a NAME.002 beside it is the first file of a split image: the disk is all of them.
        VirtualDisk split = SplitRawDisk.openIfSplit(storage, context);
        return split != null ? split : new RawDisk(storage);
    }
}
