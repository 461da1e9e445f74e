package org.vdmount.mounter.attach;

import java.nio.file.Path;

/**
 * What {@code vdmount attach} was asked for; the same in the client and in the server it launches.
 *
 * @param transport  "auto" or a transport's name
 * @param snapshot   qcow2 internal snapshot to show, or null
 * @param diskNumber disk of a multi-disk container (OVA), 0 for the only one
 * @param partscan   whether to expose partitions as devices of their own
 * @param threads    threads serving requests
 * @param readWrite  whether writes go to the image itself (--rw)
 * @param overlay    file that takes the writes while the image stays untouched (--overlay), or null
 * @param index      device number to ask the transport for (--index), or -1 for any
 */
public record AttachOptions(Path image, String transport, String snapshot, int diskNumber, boolean partscan, int threads,
        boolean readWrite, Path overlay, int index) {

    /** What the device lines and `vdmount list` call the mode. */
    public String mode() {
        if (overlay != null) {
            return "overlay " + overlay;
        }
        return readWrite ? "read-write" : "read-only";
    }
}
