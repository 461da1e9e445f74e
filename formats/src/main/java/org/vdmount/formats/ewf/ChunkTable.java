package org.vdmount.formats.ewf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;

/**
 * One table section of a segment: where each of a run of chunks is stored, and whether it is
 * compressed. Its copy in the table2 section that follows is read instead when the table's own
 * checksum fails. Entries are loaded on first use into the shared {@link TableCache}, so a large
 * image costs memory only for the tables in use.
 */
final class ChunkTable {
    /** EnCase writes at most 65534 entries per table; more than this is not a table. */
    static final int MAX_ENTRIES = 1 << 20;
    private static final long COMPRESSED = 1L << 63;

    /** One copy of the table: where its entries are and what they are relative to. */
    record Copy(String section, long entriesOffset, long base, boolean footer) {
    }

    private final Storage storage;
    private final long firstChunk;
    private final int count;
    private final long dataEnd;
    private final Copy primary;
    private Copy alternate;

    /**
     * @param dataEnd where the stored bytes of the table's last chunk end: the end of the sectors
     *                section before the table, or of the table section that holds its chunks
     */
    ChunkTable(Storage storage, long firstChunk, int count, long dataEnd, Copy primary) {
        this.storage = storage;
        this.firstChunk = firstChunk;
        this.count = count;
        this.dataEnd = dataEnd;
        this.primary = primary;
    }

    void alternate(Copy copy) {
        this.alternate = copy;
    }

    Storage storage() {
        return storage;
    }

    long firstChunk() {
        return firstChunk;
    }

    int count() {
        return count;
    }

    /**
     * Where chunk {@code index} (counted within this table) is stored: entry {@code index} holds its
     * start (bit 63: compressed), entry {@code index + 1} its end.
     */
    long[] entries() throws IOException {
        return TableCache.shared().get(this, 0, this::load);
    }

    static boolean compressed(long entry) {
        return (entry & COMPRESSED) != 0;
    }

    static long offset(long entry) {
        return entry & ~COMPRESSED;
    }

    void clear() {
        TableCache.shared().clear(this);
    }

    private long[] load() throws IOException {
        byte[] raw = read(primary);
        Copy used = primary;
        if (raw == null && alternate != null) {
            raw = read(alternate);
            used = alternate;
        }
        if (raw == null) {
            throw new ImageException(storage.name(), "chunk table at offset " + primary.entriesOffset()
                    + " is damaged (Adler-32 checksum mismatch)" + (alternate == null ? " and has no table2 copy"
                    : " and so is its table2 copy"));
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[count + 1];
        for (int i = 0; i < count; i++) {
            long entry = Integer.toUnsignedLong(b.getInt(4 * i));
            long at = used.base() + (entry & 0x7fffffffL);
            out[i] = at | ((entry & 0x80000000L) != 0 ? COMPRESSED : 0);
        }
        out[count] = dataEnd;
        return out;
    }

    /** The entries of {@code copy}, or null when their checksum says they are damaged. */
    private byte[] read(Copy copy) throws IOException {
        byte[] raw = new byte[4 * count + (copy.footer() ? 4 : 0)];
        storage.readFully(ByteBuffer.wrap(raw), copy.entriesOffset());
        return !copy.footer() || Checksums.valid(raw, 0, 4 * count) ? raw : null;
    }
}
