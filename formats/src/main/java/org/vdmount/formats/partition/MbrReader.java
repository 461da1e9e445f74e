package org.vdmount.formats.partition;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.vdmount.formats.ImageException;

/**
 * The DOS partition table in sector 0 and the chains of extended boot records (EBRs) behind its
 * extended entries. In an EBR the logical partition's start is relative to that EBR, the link to
 * the next EBR relative to the start of the extended partition. Numbering follows Linux
 * (block/partitions/msdos.c): primaries by slot 1-4, logicals from 5 in chain order.
 */
final class MbrReader {
    private static final int ENTRIES_OFFSET = 446;
    private static final int ENTRY_SIZE = 16;
    private static final int SIGNATURE_OFFSET = 510;
    /** Logical partitions followed before giving up: far more than any partitioner makes. */
    static final int MAX_LOGICALS = 128;

    private record Entry(int bootFlag, int type, long firstSector, long sectors) {
        boolean isEmpty() {
            return type == 0 || sectors == 0;
        }
    }

    private final DiskBytes disk;
    private final int sectorSize;
    private final Warnings warnings;
    private final List<Partition> partitions = new ArrayList<>();
    private int nextLogical = 5;

    private MbrReader(DiskBytes disk, int sectorSize, Warnings warnings) {
        this.disk = disk;
        this.sectorSize = sectorSize;
        this.warnings = warnings;
    }

    static boolean hasSignature(ByteBuffer sector) {
        return sector.get(SIGNATURE_OFFSET) == 0x55 && sector.get(SIGNATURE_OFFSET + 1) == (byte) 0xAA;
    }

    /**
     * Whether sector 0 is a partition table at all. A FAT or NTFS boot sector also ends in 55 AA;
     * as Linux does, a boot flag other than 0x00/0x80 rules a table out, and so does a file
     * system's boot sector with four empty entries.
     */
    static boolean isPartitionTable(ByteBuffer sector) {
        if (!hasSignature(sector)) {
            return false;
        }
        boolean allEmpty = true;
        for (int slot = 0; slot < 4; slot++) {
            Entry e = entry(sector, slot);
            if (e.bootFlag() != 0 && e.bootFlag() != 0x80) {
                return false;
            }
            allEmpty &= e.isEmpty();
        }
        return !(allEmpty && looksLikeFileSystemBootSector(sector));
    }

    private static boolean looksLikeFileSystemBootSector(ByteBuffer s) {
        int jump = s.get(0) & 0xFF;
        if (jump != 0xEB && jump != 0xE9) {
            return false;
        }
        return ascii(s, 3, 4).equals("NTFS") || ascii(s, 3, 5).equals("EXFAT")
                || ascii(s, 54, 3).equals("FAT") || ascii(s, 82, 3).equals("FAT");
    }

    private static String ascii(ByteBuffer s, int at, int length) {
        char[] c = new char[length];
        for (int i = 0; i < length; i++) {
            c[i] = (char) (s.get(at + i) & 0xFF);
        }
        return new String(c);
    }

    static boolean hasProtectiveEntry(ByteBuffer sector) {
        for (int slot = 0; slot < 4; slot++) {
            if (entry(sector, slot).type() == PartitionTypes.GPT_PROTECTIVE) {
                return true;
            }
        }
        return false;
    }

    /** A protective entry plus others: the MBR half of a hybrid MBR/GPT disk. */
    static boolean isHybrid(ByteBuffer sector) {
        for (int slot = 0; slot < 4; slot++) {
            Entry e = entry(sector, slot);
            if (!e.isEmpty() && e.type() != PartitionTypes.GPT_PROTECTIVE) {
                return true;
            }
        }
        return false;
    }

    private static Entry entry(ByteBuffer sector, int slot) {
        int at = ENTRIES_OFFSET + slot * ENTRY_SIZE;
        return new Entry(sector.get(at) & 0xFF, sector.get(at + 4) & 0xFF,
                DiskBytes.u32(sector, at + 8), DiskBytes.u32(sector, at + 12));
    }

    /** The primaries of {@code sector0} and the logicals of every extended partition, by number. */
    static List<Partition> read(DiskBytes disk, ByteBuffer sector0, int sectorSize, Warnings warnings) {
        MbrReader reader = new MbrReader(disk, sectorSize, warnings);
        List<Entry> containers = new ArrayList<>();
        for (int slot = 0; slot < 4; slot++) {
            Entry e = entry(sector0, slot);
            if (e.isEmpty()) {
                continue;
            }
            boolean extended = PartitionTypes.isExtended(e.type());
            if (reader.add(slot + 1, e, e.firstSector(), extended) && extended) {
                containers.add(e);
            }
        }
        for (Entry container : containers) {
            reader.followChain(container);
        }
        reader.partitions.sort((a, b) -> Integer.compare(a.number(), b.number()));
        return reader.partitions;
    }

    /**
     * Walks one EBR chain. Bounded: each EBR is visited once, at most {@link #MAX_LOGICALS} are
     * followed, and every link must stay inside the extended partition.
     */
    private void followChain(Entry container) {
        long first = container.firstSector();
        long end = first + container.sectors();
        Set<Long> visited = new HashSet<>();
        long ebr = first;
        while (true) {
            if (!visited.add(ebr)) {
                warnings.add("the chain of logical partitions loops back to sector " + ebr
                        + "; stopped after partition " + (nextLogical - 1));
                return;
            }
            if (visited.size() > MAX_LOGICALS || nextLogical - 5 >= MAX_LOGICALS) {
                warnings.add("more than " + MAX_LOGICALS + " logical partitions; the rest are ignored");
                return;
            }
            ByteBuffer sector;
            try {
                sector = disk.read(ebr * sectorSize, 512);
            } catch (ImageException e) {
                warnings.add("the extended boot record at sector " + ebr + " cannot be read (" + e.reason()
                        + "); the logical partitions stop there");
                return;
            }
            if (!hasSignature(sector)) {
                warnings.add("the extended boot record at sector " + ebr
                        + " has no 55 AA signature; the logical partitions stop there");
                return;
            }
            long next = -1;
            for (int slot = 0; slot < 4; slot++) {
                Entry e = entry(sector, slot);
                if (e.isEmpty()) {
                    continue;
                }
                if (PartitionTypes.isExtended(e.type())) {
                    if (next < 0) {
                        next = first + e.firstSector();
                    }
                    continue;
                }
                long start = ebr + e.firstSector();
                boolean inside = start >= first && start + e.sectors() <= end;
                // Slots 3 and 4 of an EBR often hold leftover bytes: trusted only when they fit.
                if (slot >= 2 && !inside) {
                    continue;
                }
                if (nextLogical - 5 >= MAX_LOGICALS) {
                    break;
                }
                int number = nextLogical++;
                if (!inside) {
                    warnings.add("logical partition " + number + " lies outside its extended partition "
                            + "(sectors " + first + " to " + (end - 1) + ")");
                }
                add(number, e, start, false);
            }
            if (next < 0) {
                return;
            }
            if (next < first || next >= end) {
                warnings.add("the extended boot record at sector " + ebr + " links to sector " + next
                        + ", outside its extended partition; the logical partitions stop there");
                return;
            }
            ebr = next;
        }
    }

    /** Adds an entry, clipped to the disk; false when it lies wholly past the disk's end. */
    private boolean add(int number, Entry e, long firstSector, boolean extended) {
        long start = firstSector * sectorSize;
        long size = e.sectors() * sectorSize;
        long diskSize = disk.size();
        if (start >= diskSize) {
            warnings.add("partition " + number + " starts at byte " + start
                    + ", past the end of the disk (" + diskSize + " bytes); ignored");
            return false;
        }
        if (size > diskSize - start) {
            warnings.add("partition " + number + " runs " + (size - (diskSize - start))
                    + " bytes past the end of the disk; clipped");
            size = diskSize - start;
        }
        partitions.add(new Partition(number, start, size, PartitionTypes.mbrCode(e.type()),
                PartitionTypes.mbrName(e.type()), null, null, e.bootFlag() == 0x80, extended));
        return true;
    }
}
