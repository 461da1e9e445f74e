package org.vdmount.mounter.attach;

import org.vdmount.mounter.util.Sizes;

import org.vdmount.formats.DiskInfo;
import org.vdmount.mounter.transport.AttachedDevice;

/** The one-line-per-device report every transport prints on attach. */
public final class DeviceLines {
    private DeviceLines() {
    }

    /** e.g. {@code /dev/loop0    20.0 GiB  disk.qcow2 (qcow2 v3, read-only, fuse)}. */
    public static String line(AttachedDevice d) {
        // A partition node named after the disk's (abuse0p1) says which partition it is by itself;
        // a loop device does not, so the partition's name goes first.
        String label = d.name().equals("disk") || namesPartition(d) ? d.label() : d.name() + " " + d.label();
        return String.format("%-13s %-9s %s", d.path(), Sizes.human(d.size()), label).stripTrailing();
    }

    /** Whether the node's own name ends in its partition's, after a digit: abuse0p1, nbd0p1, not loop1. */
    private static boolean namesPartition(AttachedDevice d) {
        String path = d.path();
        int cut = path.length() - d.name().length();
        return path.endsWith(d.name()) && cut > 0 && Character.isDigit(path.charAt(cut - 1));
    }

    /** What the whole-disk line says after the size: file name, format, mode, transport. */
    public static String diskLabel(String fileName, DiskInfo info, String mode, String transport) {
        String format = info.subformat() == null ? info.format() : info.format() + " " + info.subformat();
        return fileName + " (" + format + ", " + mode + ", " + transport + ")";
    }
}
