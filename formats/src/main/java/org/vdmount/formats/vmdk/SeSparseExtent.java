package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * An seSparse extent (ESXi 6.5+ snapshot deltas and thin disks over 2 TiB): a 512-byte constant
 * header of 64-bit fields, a volatile header, a journal, a grain directory of 64-bit entries and
 * grain tables of 4096 64-bit entries covering 4 KiB grains. A directory entry's top nibble 1 marks
 * an allocated table, whose index is in the low 32 bits; a table entry's top nibble says
 * unallocated (0), unmapped (1) or zero (2), both reading as zeros, or allocated (3), with the
 * grain number split: its low 12 bits in bits 48-59, the rest in bits 0-47.
 */
final class SeSparseExtent extends GrainExtent {
    static final long MAGIC = 0xcafebabeL;
    static final long VOLATILE_MAGIC = 0xcafecafeL;
    static final long VERSION = 0x200000001L;
    private static final int TABLE_ENTRIES = 4096;
    private static final int GRAIN_SECTORS = 8;
    /** 4 Mi tables of 16 MiB: 64 TiB, above seSparse's 62 TB limit. */
    private static final int MAX_DIRECTORY_ENTRIES = 1 << 22;

    private final long[] directory;
    private final long tablesAt;
    private final long grainsAt;

    private SeSparseExtent(Storage storage, long length, long[] directory, long tablesAt, long grainsAt,
            TableCache tables) throws IOException {
        super(storage, length, GRAIN_SECTORS * 512, TABLE_ENTRIES, directory.length, tables);
        this.directory = directory;
        this.tablesAt = tablesAt;
        this.grainsAt = grainsAt;
    }

    static SeSparseExtent open(Storage storage, long length, TableCache tables) throws IOException {
        String file = storage.name();
        long size = storage.size();
        if (size < 512) {
            throw new ImageException(file, "too short for an seSparse extent: " + size
                    + " bytes, the header alone is 512");
        }
        ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(h, 0);
        h.flip();
        if (h.getLong(0) != MAGIC) {
            throw new ImageException(file, "not an seSparse extent (no 0xcafebabe magic)");
        }
        long version = h.getLong(8);
        long capacity = h.getLong(16);
        long grainSize = h.getLong(24);
        long tableSize = h.getLong(32);
        long flags = h.getLong(40);
        long volatileAt = h.getLong(80);
        long gdAt = h.getLong(128);
        long gdSectors = h.getLong(136);
        long tablesAt = h.getLong(144);
        long grainsAt = h.getLong(192);
        if (version != VERSION) {
            throw new ImageException(file, "seSparse version 0x" + Long.toHexString(version)
                    + " is not supported (0x200000001 is)");
        }
        if (grainSize != GRAIN_SECTORS || tableSize != 64 || flags != 0) {
            throw new ImageException(file, "seSparse layout not supported: grain " + grainSize
                    + " sectors, grain table " + tableSize + " sectors, flags 0x" + Long.toHexString(flags)
                    + " (8, 64 and 0 are)");
        }
        if (capacity < 0 || capacity > Descriptor.MAX_SECTORS) {
            throw new ImageException(file, "seSparse capacity of " + Long.toUnsignedString(capacity)
                    + " sectors is out of range");
        }
        checkInFile(file, "volatile header", volatileAt, 512, size);
        ByteBuffer v = ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(v, volatileAt * 512);
        v.flip();
        if (v.getLong(0) != VOLATILE_MAGIC) {
            throw new ImageException(file, "seSparse volatile header is damaged (no 0xcafecafe magic)");
        }
        if (v.getLong(24) != 0) {
            throw new ImageException(file, "seSparse journal needs replaying (the host crashed while writing); "
                    + "open the disk once in ESXi first");
        }
        long coverage = (long) GRAIN_SECTORS * TABLE_ENTRIES;
        long entries = (capacity + coverage - 1) / coverage;
        if (entries > MAX_DIRECTORY_ENTRIES || entries * 8 > gdSectors * 512) {
            throw new ImageException(file, "seSparse grain directory of " + gdSectors
                    + " sectors cannot cover a capacity of " + capacity + " sectors");
        }
        checkInFile(file, "grain directory", gdAt, entries * 8, size);
        if (tablesAt <= 0 || tablesAt > size / 512 || grainsAt <= 0 || grainsAt > size / 512) {
            throw new ImageException(file, "seSparse grain tables (sector " + tablesAt + ") or grains (sector "
                    + grainsAt + ") lie outside the file (" + size + " bytes)");
        }
        ByteBuffer gd = ByteBuffer.allocate((int) (entries * 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(gd, gdAt * 512);
        gd.flip();
        long[] directory = new long[(int) entries];
        long tableBytes = 8L * TABLE_ENTRIES;
        for (int i = 0; i < entries; i++) {
            long e = gd.getLong();
            if (e == 0) {
                directory[i] = 0;
                continue;
            }
            if ((e & 0xffffffff00000000L) != 0x1000000000000000L) {
                throw new ImageException(file, "seSparse grain directory entry " + i + " is damaged (0x"
                        + Long.toHexString(e) + ")");
            }
            long at = tablesAt * 512 + (e & 0xffffffffL) * tableBytes;
            if (at + tableBytes > size) {
                throw new ImageException(file, "seSparse grain table " + i + " at offset " + at
                        + " lies outside the file (" + size + " bytes)");
            }
            directory[i] = at;
        }
        return new SeSparseExtent(storage, length < 0 ? capacity * 512 : length, directory, tablesAt, grainsAt,
                tables);
    }

    private static void checkInFile(String file, String what, long sector, long bytes, long size)
            throws ImageException {
        if (sector <= 0 || sector > size / 512 || sector * 512 + bytes > size) {
            throw new ImageException(file, "seSparse " + what + " at sector " + sector
                    + " lies outside the file (" + size + " bytes)");
        }
    }

    @Override
    protected long[] loadTable(long index) throws IOException {
        long at = directory[(int) index];
        if (at == 0) {
            return NO_TABLE;
        }
        ByteBuffer buf = read(at, 8 * TABLE_ENTRIES);
        long[] table = new long[TABLE_ENTRIES];
        for (int i = 0; i < TABLE_ENTRIES; i++) {
            long e = buf.getLong();
            int kind = (int) (e >>> 60);
            switch (kind) {
                case 0 -> {
                    if (e != 0) {
                        throw damaged(index, i, e);
                    }
                    table[i] = UNALLOCATED;
                }
                case 1, 2 -> table[i] = ZEROED;
                case 3 -> {
                    long grain = ((e & 0x0fff000000000000L) >>> 48) | ((e & 0x0000ffffffffffffL) << 12);
                    if (grain > fileSize / grainBytes) {
                        throw damaged(index, i, e);
                    }
                    table[i] = (grainsAt + grain * GRAIN_SECTORS) * 512;
                }
                default -> throw damaged(index, i, e);
            }
        }
        return table;
    }

    private ImageException damaged(long table, int entry, long value) {
        return new ImageException(storage.name(), "seSparse grain table " + table + " entry " + entry
                + " is damaged (0x" + Long.toHexString(value) + ")");
    }

    @Override
    public String unwritable() {
        return "it is a seSparse extent, whose journal and allocation maps vdmount does not write";
    }

    @Override
    public String describe() {
        return "seSparse, grain " + grainBytes + " bytes";
    }
}
