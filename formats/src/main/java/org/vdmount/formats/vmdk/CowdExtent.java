package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * A COWD extent ("VMDK3"; ESX vmfsSparse snapshot deltas): a 32-bit header, a grain directory of
 * {@code numGDEntries} sector numbers, and grain tables of 4096 sector numbers each.
 */
final class CowdExtent extends GrainExtent {
    static final int MAGIC = 0x44574f43; // "COWD" little-endian
    static final int TABLE_ENTRIES = 4096;
    private static final int MAX_DIRECTORY_ENTRIES = 1 << 22;

    private final long[] directory;
    private final int version;

    private CowdExtent(Storage storage, long length, int grainBytes, long[] directory, int version, TableCache tables)
            throws IOException {
        super(storage, length, grainBytes, TABLE_ENTRIES, directory.length, tables);
        this.directory = directory;
        this.version = version;
    }

    /** Opens the COWD extent in {@code storage}; {@code length} (bytes) &lt; 0 means its own capacity. */
    static CowdExtent open(Storage storage, long length, TableCache tables) throws IOException {
        long size = storage.size();
        if (size < 512) {
            throw new ImageException(storage.name(), "too short for a COWD extent: " + size
                    + " bytes, the header alone is 512");
        }
        ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(h, 0);
        h.flip();
        if (h.getInt(0) != MAGIC) {
            throw new ImageException(storage.name(), "not a COWD extent (no COWD magic)");
        }
        int version = h.getInt(4);
        long capacity = h.getInt(12) & 0xffffffffL;
        long grain = h.getInt(16) & 0xffffffffL;
        long gdSector = h.getInt(20) & 0xffffffffL;
        long gdEntries = h.getInt(24) & 0xffffffffL;
        if (grain < 1 || grain > SparseHeader.MAX_GRAIN_SECTORS) {
            throw new ImageException(storage.name(), "COWD grain size of " + grain
                    + " sectors is out of range (1 to " + SparseHeader.MAX_GRAIN_SECTORS + ")");
        }
        long needed = (capacity + grain * TABLE_ENTRIES - 1) / (grain * TABLE_ENTRIES);
        if (gdEntries > MAX_DIRECTORY_ENTRIES) {
            throw new ImageException(storage.name(), "COWD grain directory of " + gdEntries
                    + " entries is out of range");
        }
        if (gdSector == 0 || gdSector * 512 + 4 * gdEntries > size) {
            throw new ImageException(storage.name(), "COWD grain directory at sector " + gdSector + " ("
                    + gdEntries + " entries) lies outside the file (" + size + " bytes)");
        }
        int entries = (int) Math.min(gdEntries, needed);
        ByteBuffer gd = ByteBuffer.allocate(4 * entries).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(gd, gdSector * 512);
        gd.flip();
        long[] directory = new long[entries];
        for (int i = 0; i < entries; i++) {
            long sector = gd.getInt() & 0xffffffffL;
            if (sector != 0 && sector * 512 + 4L * TABLE_ENTRIES > size) {
                throw new ImageException(storage.name(), "COWD grain table " + i + " at sector " + sector
                        + " lies outside the file (" + size + " bytes)");
            }
            directory[i] = sector * 512;
        }
        return new CowdExtent(storage, length < 0 ? capacity * 512 : length, (int) (grain * 512), directory,
                version, tables);
    }

    @Override
    protected long[] loadTable(long index) throws IOException {
        long at = directory[(int) index];
        if (at == 0) {
            return NO_TABLE;
        }
        ByteBuffer buf = read(at, 4 * TABLE_ENTRIES);
        long[] table = new long[TABLE_ENTRIES];
        for (int i = 0; i < TABLE_ENTRIES; i++) {
            long sector = buf.getInt() & 0xffffffffL;
            table[i] = sector == 0 ? UNALLOCATED : sector * 512;
        }
        return table;
    }

    @Override
    public String unwritable() {
        return "it is a vmfsSparse (COWD) extent, which vdmount does not write";
    }

    @Override
    public String describe() {
        return "COWD v" + version + ", grain " + grainBytes + " bytes";
    }
}
