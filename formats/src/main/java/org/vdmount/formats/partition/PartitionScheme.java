package org.vdmount.formats.partition;

/** How a disk's partitions are described. */
public enum PartitionScheme {
    /** No partition table: the whole disk is one file system, or blank, or unrecognised. */
    NONE,
    /** The DOS/MBR table in sector 0, with extended/logical chains. */
    MBR,
    /** The UEFI GUID partition table (behind a protective or hybrid MBR). */
    GPT
}
