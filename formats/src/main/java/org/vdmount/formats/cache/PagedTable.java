package org.vdmount.formats.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.Storage;

/**
 * A table of fixed-width unsigned entries in an image file (a VHD or VHDX BAT, a VDI block map,
 * a Parallels BAT), read a page at a time through the shared {@link TableCache}: a table of any
 * size costs memory only for the pages in use.
 */
public final class PagedTable {
    /** Entries per page: 16 KiB of 32-bit entries, 32 KiB of 64-bit ones. */
    static final int PAGE = 4096;

    private final Storage storage;
    private final long offset;
    private final long entries;
    private final int entryBytes;
    private final ByteOrder order;
    private final TableCache tables = TableCache.shared();

    /**
     * @param offset     where the table starts in {@code storage}, bytes
     * @param entries    how many entries it has (the caller has checked they lie in the file)
     * @param entryBytes 4 or 8
     */
    public PagedTable(Storage storage, long offset, long entries, int entryBytes, ByteOrder order) {
        if (entryBytes != 4 && entryBytes != 8) {
            throw new IllegalArgumentException("entries of " + entryBytes + " bytes");
        }
        this.storage = storage;
        this.offset = offset;
        this.entries = entries;
        this.entryBytes = entryBytes;
        this.order = order;
    }

    public long entries() {
        return entries;
    }

    /** Entry {@code index} (below {@link #entries()}), unsigned. */
    public long get(long index) throws IOException {
        long page = index / PAGE;
        return tables.get(this, page, () -> load(page))[(int) (index % PAGE)];
    }

    /** Drops the cached pages, when the image is closed. */
    public void clear() {
        tables.clear(this);
    }

    private long[] load(long page) throws IOException {
        int count = (int) Math.min(PAGE, entries - page * PAGE);
        ByteBuffer b = ByteBuffer.allocate(entryBytes * count).order(order);
        storage.readFully(b, offset + (long) entryBytes * page * PAGE);
        b.flip();
        long[] out = new long[count];
        if (entryBytes == 8) {
            b.asLongBuffer().get(out);
        } else {
            for (int i = 0; i < count; i++) {
                out[i] = Integer.toUnsignedLong(b.getInt());
            }
        }
        return out;
    }
}
