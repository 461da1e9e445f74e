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
 * unless it points outside the file, then the redundant copy's. Opened for writing (uncompressed
 * extents only), a {@link GrainWriter} allocates grains and keeps both copies of the tables.
 */
final class HostedSparseExtent extends GrainExtent {
    /**
     * 2 Mi tables: 64 TiB at VMware's geometry, far beyond any hosted extent (2 TiB needs 64 Ki),
     * and a bound on what a hostile header can make us allocate (16 MiB per directory copy).
     */
    private static final long MAX_DIRECTORY_ENTRIES = 1L << 21;

    private final SparseHeader header;
    /** Byte offset of each grain table, 0 for none; a writer adds the tables it creates. */
    private final long[] directory;
    private final GrainWriter writer;

    /**
     * @param redundant for writing, the redundant directory's table offsets (empty when the header
     *                  has none); null to read only
     */
    private HostedSparseExtent(Storage storage, SparseHeader header, long length, long[] directory,
            long[] redundant, TableCache tables) throws IOException {
        super(storage, length, (int) (header.grainSize() * 512), header.numGTEsPerGT(), directory.length, tables);
        this.header = header;
        this.directory = directory;
        this.writer = redundant == null ? null
                : new GrainWriter(this, storage, header, directory, redundant.length == 0 ? null : redundant);
    }

    SparseHeader header() {
        return header;
    }

    /**
     * Opens the extent in {@code storage}; {@code length} is its size in the disk, in bytes. When the
     * storage is open for writing and the extent is one that can be written, writes are taken.
     */
    static HostedSparseExtent open(Storage storage, SparseHeader header, long length, TableCache tables)
            throws IOException {
        long coverage = header.grainSize() * header.numGTEsPerGT();
        long entries = (header.capacity() + coverage - 1) / coverage;
        if (entries > MAX_DIRECTORY_ENTRIES) {
            throw new ImageException(storage.name(), "capacity of " + header.capacity()
                    + " sectors needs " + entries + " grain tables; refusing more than " + MAX_DIRECTORY_ENTRIES);
        }
        if (writable(storage, header)) {
            return openForWriting(storage, header, length, (int) entries, tables);
        }
        long[] directory = loadDirectory(storage, header, (int) entries);
        return new HostedSparseExtent(storage, header, length, directory, null, tables);
    }

    /** Whether writes can go to this extent: its file is open for writing and it is not a stream. */
    private static boolean writable(Storage storage, SparseHeader header) {
        return storage.writable() && streamReason(header) == null;
    }

    private static String streamReason(SparseHeader header) {
        if (header.compressed() || header.markers() || header.fromFooter()) {
            return "it is a streamOptimized extent, whose grains are compressed and written once, as a stream";
        }
        return null;
    }

    /**
     * A writer keeps both directories in step, so both must be sound: every primary entry inside the
     * file, and the redundant directory (when the header has one) naming a table exactly where the
     * primary does. A damaged directory is read (the readable copy) but never written.
     */
    private static HostedSparseExtent openForWriting(Storage storage, SparseHeader header, long length, int entries,
            TableCache tables) throws IOException {
        long size = storage.size();
        long tableBytes = 4L * header.numGTEsPerGT();
        long[] primary = readDirectory(storage, header.gdOffset(), entries, size);
        boolean hasRedundant = (header.flags() & SparseHeader.FLAG_REDUNDANT_GD) != 0 && header.rgdOffset() > 0;
        long[] redundant = hasRedundant ? readDirectory(storage, header.rgdOffset(), entries, size) : null;
        String damage = primary == null ? "the grain directory lies outside the file"
                : hasRedundant && redundant == null ? "the redundant grain directory lies outside the file" : null;
        for (int i = 0; damage == null && i < entries; i++) {
            long p = primary[i];
            long r = redundant == null ? 0 : redundant[i];
            if (p != 0 && !tableInFile(p, tableBytes, size) || r != 0 && !tableInFile(r, tableBytes, size)) {
                damage = "grain table " + i + " lies outside the file";
            } else if (redundant != null && (p == 0) != (r == 0)) {
                damage = "grain table " + i + " is in one grain directory but not in the other";
            }
        }
        if (damage != null) {
            throw new ImageException(storage.name(), "cannot be written in place: " + damage
                    + " (qemu-img check tells more); --overlay FILE keeps the writes in a separate file");
        }
        long[] directory = new long[entries];
        long[] copies = redundant == null ? new long[0] : new long[entries];
        for (int i = 0; i < entries; i++) {
            directory[i] = primary[i] * 512;
            if (redundant != null) {
                copies[i] = redundant[i] * 512;
            }
        }
        return new HostedSparseExtent(storage, header, length, directory, copies, tables);
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
        long at = (long) ENTRY.getAcquire(directory, (int) index);
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
    protected long[] table(long index) throws IOException {
        long[] held = writer == null ? null : writer.pinned(index);
        return held != null ? held : cachedTable(index);
    }

    /** For the writer: the table as the cache holds it, and the table it has written back. */
    long[] tableFromCache(long index) throws IOException {
        return cachedTable(index);
    }

    void tableWritten(long index, long[] table) {
        cacheTable(index, table);
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
    public String unwritable() {
        String stream = streamReason(header);
        if (stream != null) {
            return stream;
        }
        return writer == null ? "its file is open read-only" : null;
    }

    @Override
    public void write(ByteBuffer src, long offset, long base, Beneath beneath) throws IOException {
        if (writer == null) {
            throw new ImageException(toString(), "cannot be written in place: " + unwritable());
        }
        writer.write(src, offset, base, beneath);
    }

    @Override
    public void discard(long offset, long length, long base, Beneath beneath) throws IOException {
        if (writer == null) {
            throw new ImageException(toString(), "cannot be written in place: " + unwritable());
        }
        writer.discard(offset, length, base, beneath);
    }

    @Override
    public void flush() throws IOException {
        if (writer != null) {
            writer.flush();
        }
    }

    /** A writer's tables not yet written back are written before the file closes. */
    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            super.close();
        }
    }

    @Override
    public String describe() {
        return "KDMV v" + header.version() + ", grain " + grainBytes + " bytes, flags 0x"
                + Integer.toHexString(header.flags());
    }
}
