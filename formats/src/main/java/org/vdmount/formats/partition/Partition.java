package org.vdmount.formats.partition;

import org.vdmount.formats.VirtualDisk;

/**
 * One entry of a partition table, in bytes, already checked against the disk's size.
 *
 * @param number    the number Linux gives it: MBR primaries 1-4 by slot, logicals from 5 in chain
 *                  order; GPT entry index + 1
 * @param start     first byte on the disk
 * @param size      length in bytes (clipped to the disk's end)
 * @param typeCode  MBR type byte as "0x83", or the GPT type GUID in lower case
 * @param typeName  a human name for the type ("Linux filesystem", "EFI System"), null when unknown
 * @param name      the GPT partition name, null for MBR entries and unnamed GPT entries
 * @param uuid      the GPT unique partition GUID in lower case, null for MBR entries
 * @param bootable  the MBR active flag (0x80)
 * @param extended  an MBR extended container: listed (as {@code mmls} does) but holding the
 *                  logical partitions rather than a file system
 */
public record Partition(int number, long start, long size, String typeCode, String typeName,
                        String name, String uuid, boolean bootable, boolean extended) {

    /** One past the last byte. */
    public long end() {
        return start + size;
    }

    /**
     * The bytes of this partition as a disk of their own, read through {@code disk} (which must be
     * the disk the table was read from, and stays open and owned by the caller).
     */
    public VirtualDisk slice(VirtualDisk disk) {
        return new PartitionDisk(disk, this);
    }
}
