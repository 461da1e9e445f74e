package org.vdmount.mounter.transport;

/**
 * One device node an attachment made.
 *
 * @param path  the node, e.g. /dev/loop3
 * @param size  bytes
 * @param name  which part of the image it shows: "disk", "p1", "p2"...
 * @param label what to print after the size, e.g. "disk.qcow2 (qcow2 v3, read-only, fuse)" or "p1 EFI System"
 */
public record AttachedDevice(String path, long size, String name, String label) {
}
