package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vdmount.formats.ImageException;

/**
 * The images vdmount opens for reading but refuses to change, each with the reason and, where there
 * is one, the way out. Encrypted images and unknown incompatible features are refused by the
 * header and the opener already, for reading too.
 */
final class WriteRefusals {
    private WriteRefusals() {
    }

    static void check(String file, Qcow2Header header) throws ImageException {
        if (header.hasIncompatible(Qcow2Header.INCOMPAT_CORRUPT)) {
            throw refuse(file, "it is marked corrupt; repair it first with qemu-img check -r all");
        }
        if (header.hasIncompatible(Qcow2Header.INCOMPAT_DIRTY)) {
            throw refuse(file, "its refcounts are dirty (lazy refcounts, not closed cleanly); "
                    + "repair it first with qemu-img check -r all");
        }
    }

    /**
     * Refuses an external data file that is also the image itself or a file of its backing chain
     * ({@code others}): guest data written at guest offsets would overwrite them.
     */
    static void checkDataFile(String file, Path dataFile, List<String> others) throws IOException {
        for (String other : others) {
            Path path = Path.of(other);
            if (Files.exists(path) && Files.isSameFile(path, dataFile)) {
                throw refuse(file, "its external data file " + dataFile + " is also " + other
                        + ", which guest data would overwrite");
            }
        }
    }

    private static ImageException refuse(String file, String reason) {
        return new ImageException(file, "cannot open for writing: " + reason);
    }
}
