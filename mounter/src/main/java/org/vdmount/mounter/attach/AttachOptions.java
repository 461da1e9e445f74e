package org.vdmount.mounter.attach;

import java.nio.file.Path;

/**
 * What {@code vdmount attach} was asked for; the same in the client and in the server it launches.
 *
 * @param transport  "auto" or a transport's name
 * @param snapshot   qcow2 internal snapshot to show, or null
 * @param diskNumber disk of a multi-disk container (OVA), 0 for the only one
 * @param partscan   whether to expose partitions as devices of their own
 */
public record AttachOptions(Path image, String transport, String snapshot, int diskNumber, boolean partscan, int threads) {
}
