package org.vdmount.mounter.transport;

import java.nio.file.Path;
import org.vdmount.formats.VirtualDisk;

/**
 * What a device that outlives its server keeps of the image it shows (the abuse module's backing
 * text, a fingerprint of it in a ublk device's info): how a new server for the same image finds
 * the device to take over.
 */
public final class BackingText {
    private BackingText() {
    }

    /** The image's absolute path; under an overlay, the image's and the overlay file's. */
    public static String of(VirtualDisk disk) {
        String top = Path.of(disk.info().name()).toAbsolutePath().normalize().toString();
        if (disk.info().format().equals("vdmount-overlay")) {
            String base = disk.backing().map(b -> Path.of(b.info().name()).toAbsolutePath().normalize().toString())
                    .orElse("?");
            return base + " (overlay " + top + ")";
        }
        return top;
    }
}
