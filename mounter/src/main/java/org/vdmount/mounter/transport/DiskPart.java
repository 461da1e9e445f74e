package org.vdmount.mounter.transport;

import org.vdmount.formats.VirtualDisk;

/**
 * The whole disk or one partition of it, as a transport should expose it.
 *
 * @param name        "disk", or "p" + partition number
 * @param disk        its bytes
 * @param description "EFI System", "Linux filesystem"... for partitions; the image's summary for the disk
 */
public record DiskPart(String name, VirtualDisk disk, String description) {
}
