package org.vdmount.formats.partition;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.VirtualDisk;

/**
 * The partitions of a virtual disk, read through {@link VirtualDisk#read} so that a raw file, a
 * qcow2 image and a VMDK are partitioned alike (the layering DiscUtils uses).
 *
 * <p>References: the UEFI specification 2.10, section 5 (GPT, protective MBR); the layout of the
 * DOS table and its extended boot records as Linux reads them (block/partitions/msdos.c, efi.c);
 * util-linux's fdisk for type names. Damage in a table is never an error: what can be trusted is
 * listed, the rest is explained in {@link #warnings()}. Reading is bounded in time and memory
 * whatever the table says: at most 4096 GPT entries of at most 4 MiB in
 * all, and at most 128 logical partitions.
 */
public final class PartitionTable {
    private static final int SECTOR = 512;
    private static final int LARGE_SECTOR = 4096;

    private final PartitionScheme scheme;
    private final List<Partition> partitions;
    private final String diskGuid;
    private final int sectorSize;
    private final List<String> warnings;

    private PartitionTable(PartitionScheme scheme, List<Partition> partitions, String diskGuid, int sectorSize,
                           List<String> warnings) {
        this.scheme = scheme;
        this.partitions = List.copyOf(partitions);
        this.diskGuid = diskGuid;
        this.sectorSize = sectorSize;
        this.warnings = warnings;
    }

    /**
     * Reads the partition table of {@code disk}; never null ({@link PartitionScheme#NONE} when there
     * is none). Fails only when sector 0 itself cannot be read.
     */
    public static PartitionTable read(VirtualDisk disk) throws ImageException {
        DiskBytes bytes = new DiskBytes(disk);
        Warnings warnings = new Warnings();
        if (disk.size() < SECTOR) {
            return none(warnings);
        }
        ByteBuffer sector0 = bytes.read(0, SECTOR);
        boolean mbr = MbrReader.isPartitionTable(sector0);
        boolean protective = mbr && MbrReader.hasProtectiveEntry(sector0);
        boolean gptAt512 = GptReader.hasSignature(bytes, SECTOR);
        boolean gptAt4096 = GptReader.hasSignature(bytes, LARGE_SECTOR);
        int likelySector = gptAt4096 && !gptAt512 ? LARGE_SECTOR : SECTOR;

        if (protective || (!mbr && (gptAt512 || gptAt4096))) {
            Warnings firstAttempt = null;
            for (int sectorSize : likelySector == SECTOR ? List.of(SECTOR, LARGE_SECTOR) : List.of(LARGE_SECTOR, SECTOR)) {
                Warnings attempt = new Warnings();
                GptReader.Table gpt = GptReader.read(bytes, sectorSize, attempt);
                if (gpt != null) {
                    warnings.addAll(attempt);
                    if (!mbr) {
                        warnings.add("sector 0 holds no protective MBR; the GPT was found by its signature");
                    } else if (MbrReader.isHybrid(sector0)) {
                        warnings.add("hybrid MBR: sector 0 also lists partitions; they are ignored, the GPT is used");
                    }
                    return finish(PartitionScheme.GPT, gpt.partitions(), gpt.diskGuid(), sectorSize, warnings);
                }
                if (firstAttempt == null) {
                    firstAttempt = attempt;
                }
            }
            warnings.addAll(firstAttempt);
            if (!mbr) {
                return none(warnings);
            }
            warnings.add("both GPT headers are damaged; showing the MBR's view of the disk");
        }
        if (mbr) {
            if (!protective && (gptAt512 || gptAt4096)) {
                warnings.add("a GPT header is present but the MBR has no protective entry; using the MBR");
            }
            return finish(PartitionScheme.MBR, MbrReader.read(bytes, sector0, likelySector, warnings), null,
                    likelySector, warnings);
        }
        return none(warnings);
    }

    private static PartitionTable none(Warnings warnings) {
        return new PartitionTable(PartitionScheme.NONE, List.of(), null, SECTOR, warnings.list());
    }

    private static PartitionTable finish(PartitionScheme scheme, List<Partition> found, String diskGuid,
                                         int sectorSize, Warnings warnings) {
        List<Partition> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparingInt(Partition::number));
        warnOverlaps(sorted, warnings);
        return new PartitionTable(scheme, sorted, diskGuid, sectorSize, warnings.list());
    }

    /** Partitions sharing bytes (an extended container excepted: it holds its logicals). */
    private static void warnOverlaps(List<Partition> partitions, Warnings warnings) {
        List<Partition> byStart = new ArrayList<>();
        for (Partition p : partitions) {
            if (!p.extended() && p.size() > 0) {
                byStart.add(p);
            }
        }
        byStart.sort(Comparator.comparingLong(Partition::start));
        Partition reaching = null;
        for (Partition p : byStart) {
            if (reaching != null && p.start() < reaching.end()) {
                warnings.add("partitions " + reaching.number() + " and " + p.number() + " overlap");
            }
            if (reaching == null || p.end() > reaching.end()) {
                reaching = p;
            }
        }
    }

    public PartitionScheme scheme() {
        return scheme;
    }

    /** The partitions by number; for MBR the extended containers too, marked {@link Partition#extended()}. */
    public List<Partition> partitions() {
        return partitions;
    }

    /** The partition numbered {@code number}, if there is one. */
    public Optional<Partition> partition(int number) {
        return partitions.stream().filter(p -> p.number() == number).findFirst();
    }

    /** The GPT disk GUID in lower case; null for other schemes. */
    public String diskGuid() {
        return diskGuid;
    }

    /** The logical sector size the table's sector numbers are in: 512, or 4096 for such a GPT. */
    public int sectorSize() {
        return sectorSize;
    }

    /** What was damaged, doubtful or ignored, one line each; empty for a healthy table. */
    public List<String> warnings() {
        return warnings;
    }
}
