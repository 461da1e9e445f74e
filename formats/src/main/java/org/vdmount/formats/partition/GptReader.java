package org.vdmount.formats.partition;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.vdmount.formats.ImageException;

/**
 * The GUID partition table of UEFI (specification 2.x, chapter 5.3): a header at sector 1 and a
 * backup header at the last sector, each with its own copy of the entry array, each guarded by
 * CRC32s. A copy is used only when its header and its array both check out; the primary is
 * preferred. Sizes and counts from the header are capped before anything is allocated.
 */
final class GptReader {
    /** "EFI PART" read as a little-endian long. */
    private static final long SIGNATURE = 0x5452415020494645L;
    private static final int MIN_HEADER_SIZE = 92;
    private static final int MIN_ENTRY_SIZE = 128;
    private static final int MAX_ENTRY_SIZE = 4096;
    static final int MAX_ENTRIES = 4096;
    private static final int MAX_ARRAY_BYTES = 4 << 20;
    private static final int NAME_OFFSET = 56;
    private static final int NAME_BYTES = 72;

    /** A GPT as read: disk GUID and entries. */
    record Table(String diskGuid, List<Partition> partitions) {
    }

    private record Header(long lba, long alternateLba, long firstUsable, long lastUsable, String diskGuid,
                          long entriesLba, int entryCount, int entrySize, int entriesCrc) {
    }

    /** One copy of the table: a header and the array it describes, both checked. */
    private record Copy(Header header, ByteBuffer entries) {
    }

    private final DiskBytes disk;
    private final int sectorSize;
    private final long lastLba;

    private GptReader(DiskBytes disk, int sectorSize) {
        this.disk = disk;
        this.sectorSize = sectorSize;
        this.lastLba = disk.size() / sectorSize - 1;
    }

    /** Whether "EFI PART" starts sector 1 for this sector size (cheap; checks nothing else). */
    static boolean hasSignature(DiskBytes disk, int sectorSize) {
        try {
            return disk.contains(sectorSize, 8) && disk.read(sectorSize, 8).getLong(0) == SIGNATURE;
        } catch (ImageException e) {
            return false;
        }
    }

    /** The table, or null when neither copy is valid; damage is reported to {@code warnings}. */
    static Table read(DiskBytes disk, int sectorSize, Warnings warnings) {
        return new GptReader(disk, sectorSize).read(warnings);
    }

    private Table read(Warnings warnings) {
        if (lastLba < 2) {
            warnings.add("the disk is too small for a GPT with " + sectorSize + "-byte sectors");
            return null;
        }
        Header primaryHeader = null;
        Copy primary = null;
        String primaryDamage = null;
        try {
            primaryHeader = header(1);
            primary = withEntries(primaryHeader);
        } catch (ImageException e) {
            primaryDamage = e.reason();
        }
        long backupLba = primaryHeader != null && primaryHeader.alternateLba() > 1
                && primaryHeader.alternateLba() <= lastLba ? primaryHeader.alternateLba() : lastLba;
        Copy backup = null;
        String backupDamage = null;
        try {
            backup = withEntries(header(backupLba));
        } catch (ImageException e) {
            backupDamage = e.reason();
        }
        if (primary != null) {
            if (backup == null) {
                warnings.add("the backup GPT header (sector " + backupLba + ") is missing or damaged ("
                        + backupDamage + "); using the primary");
            } else if (!sameTable(primary.header(), backup.header())) {
                warnings.add("the primary and backup GPT differ; using the primary");
            }
            if (primary.header().alternateLba() != lastLba) {
                warnings.add("the GPT places its backup at sector " + primary.header().alternateLba()
                        + " but the disk's last sector is " + lastLba + " (was the image resized?)");
            }
            return table(primary, warnings);
        }
        if (backup != null) {
            warnings.add("the primary GPT header is damaged (" + primaryDamage + "); using the backup at sector "
                    + backupLba);
            return table(backup, warnings);
        }
        warnings.add("no valid GPT with " + sectorSize + "-byte sectors: primary header (" + primaryDamage
                + "), backup header at sector " + backupLba + " (" + backupDamage + ")");
        return null;
    }

    private static boolean sameTable(Header a, Header b) {
        return a.entriesCrc() == b.entriesCrc() && a.entryCount() == b.entryCount()
                && a.entrySize() == b.entrySize() && a.diskGuid().equals(b.diskGuid())
                && a.firstUsable() == b.firstUsable() && a.lastUsable() == b.lastUsable();
    }

    private ImageException damage(String reason) {
        return new ImageException(disk.name(), reason);
    }

    /** Reads and checks the header at {@code lba}, everything but the entry array. */
    private Header header(long lba) throws ImageException {
        ByteBuffer s = disk.read(lba * sectorSize, sectorSize);
        if (s.getLong(0) != SIGNATURE) {
            throw damage(DiskBytes.isZero(s, 0, sectorSize) ? "the sector is blank" : "no \"EFI PART\" signature");
        }
        int headerSize = s.getInt(12);
        if (headerSize < MIN_HEADER_SIZE || headerSize > sectorSize) {
            throw damage("header size " + Integer.toUnsignedString(headerSize) + " is not between "
                    + MIN_HEADER_SIZE + " and " + sectorSize);
        }
        int stored = s.getInt(16);
        s.putInt(16, 0);
        int computed = crc32(s, 0, headerSize);
        if (stored != computed) {
            throw damage(String.format("header CRC32 mismatch (stored %08x, computed %08x)", stored, computed));
        }
        long myLba = s.getLong(24);
        if (myLba != lba) {
            throw damage("the header says it lies at sector " + Long.toUnsignedString(myLba)
                    + " but was read from sector " + lba);
        }
        long entryCount = DiskBytes.u32(s, 80);
        long entrySize = DiskBytes.u32(s, 84);
        if (entrySize < MIN_ENTRY_SIZE || entrySize > MAX_ENTRY_SIZE || Long.bitCount(entrySize) != 1) {
            throw damage("partition entry size " + entrySize + " is not 128 times a power of two up to "
                    + MAX_ENTRY_SIZE);
        }
        if (entryCount > MAX_ENTRIES) {
            throw damage(entryCount + " partition entries (at most " + MAX_ENTRIES + " are accepted)");
        }
        long arrayBytes = entryCount * entrySize;
        if (arrayBytes > MAX_ARRAY_BYTES) {
            throw damage("the partition entry array of " + arrayBytes + " bytes exceeds "
                    + MAX_ARRAY_BYTES + " bytes");
        }
        long entriesLba = s.getLong(72);
        long arraySectors = (arrayBytes + sectorSize - 1) / sectorSize;
        if (entriesLba < 1 || entriesLba > lastLba || arraySectors > lastLba + 1 - entriesLba) {
            throw damage("the partition entry array at sector " + Long.toUnsignedString(entriesLba)
                    + " lies outside the disk");
        }
        if (lba >= entriesLba && lba < entriesLba + arraySectors) {
            throw damage("the partition entry array overlaps the header");
        }
        long firstUsable = s.getLong(40);
        long lastUsable = s.getLong(48);
        if (firstUsable < 0 || lastUsable < 0 || firstUsable > lastUsable + 1) {
            throw damage("the usable sectors " + Long.toUnsignedString(firstUsable) + " to "
                    + Long.toUnsignedString(lastUsable) + " make no range");
        }
        return new Header(lba, s.getLong(32), firstUsable, lastUsable, DiskBytes.guid(s, 56),
                entriesLba, (int) entryCount, (int) entrySize, s.getInt(88));
    }

    private Copy withEntries(Header h) throws ImageException {
        int bytes = h.entryCount() * h.entrySize();
        ByteBuffer entries = disk.read(h.entriesLba() * sectorSize, bytes);
        int computed = crc32(entries, 0, bytes);
        if (computed != h.entriesCrc()) {
            throw damage(String.format("partition entry array CRC32 mismatch (stored %08x, computed %08x)",
                    h.entriesCrc(), computed));
        }
        return new Copy(h, entries);
    }

    private static int crc32(ByteBuffer b, int at, int length) {
        CRC32 crc = new CRC32();
        crc.update(b.duplicate().position(at).limit(at + length));
        return (int) crc.getValue();
    }

    /** The used entries, each checked against the disk; entries past its end are clipped or dropped. */
    private Table table(Copy copy, Warnings warnings) {
        Header h = copy.header();
        ByteBuffer a = copy.entries();
        long diskSectors = lastLba + 1;
        List<Partition> partitions = new ArrayList<>();
        for (int i = 0; i < h.entryCount(); i++) {
            int at = i * h.entrySize();
            if (DiskBytes.isZero(a, at, 16)) {
                continue;
            }
            int number = i + 1;
            long first = a.getLong(at + 32);
            long last = a.getLong(at + 40);
            if (first < 0 || last < 0 || last < first) {
                warnings.add("GPT entry " + number + " ends (sector " + Long.toUnsignedString(last)
                        + ") before it starts (sector " + Long.toUnsignedString(first) + "); ignored");
                continue;
            }
            if (first >= diskSectors) {
                warnings.add("partition " + number + " starts at sector " + first
                        + ", past the end of the disk (" + diskSectors + " sectors); ignored");
                continue;
            }
            if (first < h.firstUsable() || last > h.lastUsable()) {
                warnings.add("partition " + number + " lies outside the usable sectors " + h.firstUsable()
                        + " to " + h.lastUsable());
            }
            long endSector = last + 1;
            if (last >= diskSectors) {
                warnings.add("partition " + number + " runs to sector " + last + ", past the end of the disk ("
                        + diskSectors + " sectors); clipped");
                endSector = diskSectors;
            }
            String type = DiskBytes.guid(a, at);
            partitions.add(new Partition(number, first * sectorSize, (endSector - first) * sectorSize,
                    type, PartitionTypes.gptName(type), name(a, at + NAME_OFFSET),
                    DiskBytes.guid(a, at + 16), false, false));
        }
        return new Table(h.diskGuid(), partitions);
    }

    /** The UTF-16LE name up to its first NUL; null when empty. */
    private static String name(ByteBuffer a, int at) {
        int length = 0;
        while (length < NAME_BYTES && a.getShort(at + length) != 0) {
            length += 2;
        }
        if (length == 0) {
            return null;
        }
        byte[] raw = new byte[length];
        a.get(at, raw);
        return new String(raw, StandardCharsets.UTF_16LE);
    }
}
