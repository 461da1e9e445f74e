package org.vdmount.formats.partition;

import java.util.Map;

/**
 * Human names of the common partition types, worded as util-linux's fdisk words them (shortened
 * where fdisk's name is historical, e.g. "W95 FAT32 (LBA)" is "FAT32 (LBA)" here).
 */
final class PartitionTypes {
    private PartitionTypes() {
    }

    private static final Map<Integer, String> MBR = Map.ofEntries(
            Map.entry(0x01, "FAT12"),
            Map.entry(0x04, "FAT16 <32M"),
            Map.entry(0x05, "Extended"),
            Map.entry(0x06, "FAT16"),
            Map.entry(0x07, "NTFS/exFAT"),
            Map.entry(0x0b, "FAT32"),
            Map.entry(0x0c, "FAT32 (LBA)"),
            Map.entry(0x0e, "FAT16 (LBA)"),
            Map.entry(0x0f, "Extended (LBA)"),
            Map.entry(0x11, "Hidden FAT12"),
            Map.entry(0x14, "Hidden FAT16 <32M"),
            Map.entry(0x16, "Hidden FAT16"),
            Map.entry(0x17, "Hidden NTFS"),
            Map.entry(0x1b, "Hidden FAT32"),
            Map.entry(0x1c, "Hidden FAT32 (LBA)"),
            Map.entry(0x1e, "Hidden FAT16 (LBA)"),
            Map.entry(0x27, "Hidden NTFS WinRE"),
            Map.entry(0x42, "Windows dynamic (LDM)"),
            Map.entry(0x82, "Linux swap"),
            Map.entry(0x83, "Linux"),
            Map.entry(0x85, "Linux extended"),
            Map.entry(0x8e, "Linux LVM"),
            Map.entry(0xa5, "FreeBSD"),
            Map.entry(0xa6, "OpenBSD"),
            Map.entry(0xa8, "Darwin UFS"),
            Map.entry(0xa9, "NetBSD"),
            Map.entry(0xab, "Darwin boot"),
            Map.entry(0xaf, "HFS/HFS+"),
            Map.entry(0xbf, "Solaris"),
            Map.entry(0xda, "Non-FS data"),
            Map.entry(0xea, "Linux extended boot"),
            Map.entry(0xee, "GPT protective"),
            Map.entry(0xef, "EFI System"),
            Map.entry(0xfb, "VMware VMFS"),
            Map.entry(0xfc, "VMware VMKCORE"),
            Map.entry(0xfd, "Linux RAID"));

    private static final Map<String, String> GPT = Map.ofEntries(
            Map.entry("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System"),
            Map.entry("024dee41-33e7-11d3-9d69-0008c781f39f", "MBR partition scheme"),
            Map.entry("21686148-6449-6e6f-744e-656564454649", "BIOS boot"),
            Map.entry("e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved"),
            Map.entry("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data"),
            Map.entry("5808c8aa-7e8f-42e0-85d2-e1e90434cfb3", "Microsoft LDM metadata"),
            Map.entry("af9b60a0-1431-4f62-bc68-3311714a69ad", "Microsoft LDM data"),
            Map.entry("de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery environment"),
            Map.entry("e75caf8f-f680-4cee-afa3-b001e56efc2d", "Microsoft Storage Spaces"),
            Map.entry("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap"),
            Map.entry("0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"),
            Map.entry("3b8f8425-20e0-4f3b-907f-1a25a76f98e8", "Linux server data"),
            Map.entry("44479540-f297-41b2-9af7-d131d5f0458a", "Linux root (x86)"),
            Map.entry("4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)"),
            Map.entry("69dad710-2ce4-4e3c-b16c-21a1d49abed3", "Linux root (ARM)"),
            Map.entry("b921b045-1df0-41c3-af44-4c6f280d3fae", "Linux root (ARM-64)"),
            Map.entry("8da63339-0007-60c0-c436-083ac8230908", "Linux reserved"),
            Map.entry("933ac7e1-2eb4-4f13-b844-0e14e2aef915", "Linux home"),
            Map.entry("a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID"),
            Map.entry("e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM"),
            Map.entry("4d21b016-b534-45c2-a9fb-5c16e091fd2d", "Linux variable data"),
            Map.entry("7ec6f557-3bc5-4aca-b293-16ef5df639d1", "Linux temporary data"),
            Map.entry("8484680c-9521-48c6-9c11-b0720656f69e", "Linux /usr (x86-64)"),
            Map.entry("bc13c2ff-59e6-4262-a352-b275fd6f7172", "Linux extended boot"),
            Map.entry("48465300-0000-11aa-aa11-00306543ecac", "Apple HFS/HFS+"),
            Map.entry("7c3457ef-0000-11aa-aa11-00306543ecac", "Apple APFS"),
            Map.entry("426f6f74-0000-11aa-aa11-00306543ecac", "Apple boot"),
            Map.entry("516e7cb4-6ecf-11d6-8ff8-00022d09712b", "FreeBSD data"),
            Map.entry("83bd6b9d-7f41-11dc-be0b-001560b84f0f", "FreeBSD boot"),
            Map.entry("516e7cb5-6ecf-11d6-8ff8-00022d09712b", "FreeBSD swap"),
            Map.entry("516e7cb6-6ecf-11d6-8ff8-00022d09712b", "FreeBSD UFS"),
            Map.entry("516e7cba-6ecf-11d6-8ff8-00022d09712b", "FreeBSD ZFS"),
            Map.entry("6a898cc3-1dd2-11b2-99a6-080020736631", "Solaris /usr & Apple ZFS"),
            Map.entry("aa31e02a-400f-11db-9590-000c2911d1b8", "VMware VMFS"),
            Map.entry("9d275380-40ad-11db-bf97-000c2911d1b8", "VMware VMKCORE"),
            Map.entry("9e1a2d38-c612-4316-aa26-8b49521e5a8b", "PowerPC PReP boot"),
            Map.entry("fe3a2a5d-4f32-41a7-b725-accc3285a309", "ChromeOS kernel"),
            Map.entry("3cb8e202-3b7e-47dd-8a3c-7ff2a13cfcec", "ChromeOS root fs"));

    /** The MBR type byte as {@code Partition.typeCode} writes it. */
    static String mbrCode(int type) {
        return String.format("0x%02x", type);
    }

    static String mbrName(int type) {
        return MBR.get(type);
    }

    /** {@code guid} in lower case. */
    static String gptName(String guid) {
        return GPT.get(guid);
    }

    /** The MBR types that hold an EBR chain rather than a file system. */
    static boolean isExtended(int type) {
        return type == 0x05 || type == 0x0f || type == 0x85;
    }

    static final int GPT_PROTECTIVE = 0xee;
}
