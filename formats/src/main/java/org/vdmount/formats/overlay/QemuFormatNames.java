package org.vdmount.formats.overlay;

import java.nio.file.Files;
import java.nio.file.Path;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.NestedDisk;
import org.vdmount.formats.VirtualDisk;

/**
 * The name qemu gives an image's format ({@code backing_fmt}), when qemu reads the image as vdmount
 * does; null when it cannot: E01 and OVA (no qemu driver), split raw (qemu would read the first
 * file alone), an image inside evidence, a Parallels bundle, and differencing VHD, VHDX and VDI
 * images (qemu's drivers for those do not follow parents).
 */
final class QemuFormatNames {
    private QemuFormatNames() {
    }

    static String of(VirtualDisk disk, Path image) {
        if (disk instanceof NestedDisk || Files.isDirectory(image)) {
            return null;
        }
        DiskInfo info = disk.info();
        boolean singleFile = info.files().size() == 1 && disk.backing().isEmpty();
        return switch (info.format()) {
            case "raw" -> info.subformat() == null && singleFile ? "raw" : null;
            case "qcow2", "vmdk" -> info.format(); // qemu follows their backing chains as vdmount does
            case "vhd" -> singleFile ? "vpc" : null;
            case "vhdx", "vdi", "parallels" -> singleFile ? info.format() : null;
            default -> null;
        };
    }
}
