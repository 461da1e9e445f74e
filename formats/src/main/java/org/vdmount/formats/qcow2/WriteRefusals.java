package org.vdmount.formats.qcow2;

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
        if (header.hasIncompatible(Qcow2Header.INCOMPAT_DATA_FILE)) {
            throw refuse(file, "it keeps its data in an external data file, which vdmount writes not yet; "
                    + "use --overlay FILE");
        }
    }

    private static ImageException refuse(String file, String reason) {
        return new ImageException(file, "cannot open for writing: " + reason);
    }
}
