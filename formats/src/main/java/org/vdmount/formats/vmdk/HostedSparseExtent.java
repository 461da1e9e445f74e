package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * A hosted sparse extent (KDMV): monolithicSparse, twoGbMaxExtentSparse, streamOptimized and
 * Workstation snapshot deltas. Grain directory and table entries are 32-bit sector numbers; a table
 * entry of 1 marks a zeroed grain. The directory entry used for each table is the primary one
 * unless it points outside the file, then the redundant copy's.
 */
final class HostedSparseExtent extends GrainExtent {
    /**
     * 2 Mi tables: 64 TiB at VMware's geometry, far beyond any hosted extent (2 TiB needs 64 Ki),
     * and a bound on what a hostile header can make us allocate (16 MiB per directory copy).
     */
    private static final long MAX_DIRECTORY_ENTRIES = 1L << 21;

    private final SparseHeader header;
    private final long[] directory;

    private HostedSparseExtent(Storage storage, SparseHeader header, long length, long[] directory, TableCache tables)
            throws IOException {
        super(storage, length, (int) (header.grainSize() * 512), header.numGTEsPerGT(), directory.length, tables);
        this.header = header;
        this.directory = directory;
    }

    SparseHeader header() {
        return header;
    }

    /** Opens the extent in {@code storage}; {@code length} is its size in the disk, in bytes. */
    static HostedSparseExtent open(Storage storage, SparseHeader header, long length, TableCache tables)
            throws IOException {
        long coverage = header.grainSize() * header.numGTEsPerGT();
        long entries = (header.capacity() + coverage - 1) / coverage;
        if (entries > MAX_DIRECTORY_ENTRIES) {
            throw new ImageException(storage.name(), "capacity of " + header.capacity()
                    + " sectors needs " + entries + " grain tables; refusing more than " + MAX_DIRECTORY_ENTRIES);
        }
        long[] directory = loadDirectory(storage, header, (int) entries);
        return new HostedSparseExtent(storage, header, length, directory, tables);
    }

    private static long[] loadDirectory(Storage storage, SparseHeader header, int entries) throws IOException {
        long size = storage.size();
        long tableBytes = 4L * header.numGTEsPerGT();
        long[] primary = readDirectory(storage, header.gdOffset(), entries, size);
        boolean hasRedundant = (header.flags() & SparseHeader.FLAG_REDUNDANT_GD) != 0 && header.rgdOffset() > 0;
        long[] redundant = hasRedundant ? readDirectory(storage, header.rgdOffset(), entries, size) : null;
        if (primary == null && redundant == null) {
            throw new ImageException(storage.name(), "grain directory at sector " + header.gdOffset()
                    + " (" + entries + " entries) lies outside the file (" + size + " bytes)"
                    + (hasRedundant ? ", and so does the redundant one at sector " + header.rgdOffset() : ""));
        }
        long[] directory = new long[entries];
        for (int i = 0; i < entries; i++) {
            long p = primary == null ? -1 : primary[i];
            long r = redundant == null ? -1 : redundant[i];
            if (p == 0 || (p > 0 && tableInFile(p, tableBytes, size))) {
                directory[i] = p * 512;
            } else if (r == 0 || (r > 0 && tableInFile(r, tableBytes, size))) {
                directory[i] = r * 512;
            } else {
                throw new ImageException(storage.name(), "grain table " + i + " at sector " + (p >= 0 ? p : r)
                        + " lies outside the file (" + size + " bytes)"
                        + (redundant != null ? ", in the redundant directory too" : ""));
            }
        }
        return directory;
    }

    private static boolean tableInFile(long sector, long tableBytes, long size) {
        return sector < size / 512 && sector * 512 + tableBytes <= size;
    }

    /** The directory's entries as sector numbers, or null when it does not fit in the file. */
    private static long[] readDirectory(Storage storage, long sector, int entries, long size) throws IOException {
        long bytes = 4L * entries;
        if (sector <= 0 || sector >= size / 512 || sector * 512 + bytes > size) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        storage.readFully(buf, sector * 512);
        buf.flip();
        long[] out = new long[entries];
        for (int i = 0; i < entries; i++) {
            out[i] = buf.getInt() & 0xffffffffL;
        }
        return out;
    }

    @Override
    protected long[] loadTable(long index) throws IOException {
        long at = directory[(int) index];
        if (at == 0) {
            return NO_TABLE;
        }
        ByteBuffer buf = read(at, 4 * tableEntries);
        long[] table = new long[tableEntries];
        for (int i = 0; i < tableEntries; i++) {
            long sector = buf.getInt() & 0xffffffffL;
            if (sector == 0) {
                table[i] = UNALLOCATED;
            } else if (sector == 1 && (header.zeroedGrains() || header.version() >= 2)) {
                // Sector 1 is inside the header: as a grain location it can only mean "zeroed grain".
                table[i] = ZEROED;
            } else {
                table[i] = sector * 512;
            }
        }
        return table;
    }

    @Override
    protected boolean compressed() {
        return header.compressed();
    }

    @Override
    protected boolean markers() {
        return header.markers();
    }

    @Override
    public String describe() {
        return "KDMV v" + header.version() + ", grain " + grainBytes + " bytes, flags 0x"
                + Integer.toHexString(header.flags());
    }
}
