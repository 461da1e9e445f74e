package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.transport.DiskPart;

/**
 * The four primary entries of a DOS partition table, nothing more: a stop-gap so that attach shows
 * partitions before the partition layer ({@code org.vdmount.formats.partition.PartitionTable}:
 * MBR with logical partitions, GPT) is merged, at which point {@link PartitionFiles} switches to it
 * and this class goes. A GPT disk (protective 0xEE entry) shows no partitions here.
 */
final class MbrPartitions {
    private static final Map<Integer, String> TYPES = Map.ofEntries(
            Map.entry(0x01, "FAT12"), Map.entry(0x04, "FAT16 <32M"), Map.entry(0x06, "FAT16"),
            Map.entry(0x07, "HPFS/NTFS/exFAT"), Map.entry(0x0b, "W95 FAT32"), Map.entry(0x0c, "W95 FAT32 (LBA)"),
            Map.entry(0x0e, "W95 FAT16 (LBA)"), Map.entry(0x27, "Hidden NTFS WinRE"), Map.entry(0x82, "Linux swap / Solaris"),
            Map.entry(0x83, "Linux"), Map.entry(0x8e, "Linux LVM"), Map.entry(0xa5, "FreeBSD"),
            Map.entry(0xa6, "OpenBSD"), Map.entry(0xaf, "HFS / HFS+"), Map.entry(0xef, "EFI (FAT-12/16/32)"),
            Map.entry(0xfd, "Linux raid autodetect"));
    private static final int SECTOR = 512;

    private MbrPartitions() {
    }

    static List<DiskPart> read(VirtualDisk disk) throws IOException {
        List<DiskPart> parts = new ArrayList<>();
        if (disk.size() < SECTOR) {
            return parts;
        }
        ByteBuffer mbr = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(mbr, 0);
        if ((mbr.getShort(510) & 0xffff) != 0xaa55) {
            return parts;
        }
        for (int i = 0; i < 4; i++) {
            int e = 446 + 16 * i;
            int type = mbr.get(e + 4) & 0xff;
            long first = Integer.toUnsignedLong(mbr.getInt(e + 8)) * SECTOR;
            long length = Integer.toUnsignedLong(mbr.getInt(e + 12)) * SECTOR;
            if (type == 0xee) {
                return new ArrayList<>(); // GPT: not this class's business
            }
            boolean extended = type == 0x05 || type == 0x0f || type == 0x85;
            if (type == 0 || length == 0 || extended || first >= disk.size()) {
                continue;
            }
            length = Math.min(length, disk.size() - first); // a truncated image: show what exists
            String name = "p" + (i + 1);
            String description = TYPES.getOrDefault(type, String.format("type 0x%02x", type));
            parts.add(new DiskPart(name, new DiskSlice(disk, first, length, name), description));
        }
        return parts;
    }
}
