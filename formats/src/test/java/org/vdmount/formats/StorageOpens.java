package org.vdmount.formats;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Opens an image with every file it writes (the image, a VMDK's extents, a qcow2's data file)
 * passed through a storage the test chooses, one that records the writes, say. Files only read
 * (backing files) are opened as usual.
 */
public final class StorageOpens {
    private StorageOpens() {
    }

    public static VirtualDisk open(Path path, OpenOptions options, WrittenFiles written) throws IOException {
        String name = path.toString();
        return Images.open(path, name, null, OpenContext.top(options, path, name, warning -> { }, null, written::wrap));
    }

    /** What the test puts between the image and each file it writes. */
    @FunctionalInterface
    public interface WrittenFiles {
        Storage wrap(Storage file) throws IOException;
    }
}
