package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * Writes a hosted sparse extent in place, in the layout VMware and qemu write: a grain written for
 * the first time is allocated at the end of the file and filled whole (the part the write does not
 * cover from the parent, or zeros); its grain table entry is set in the grain table and in the
 * redundant grain table; a grain table the directory lacks is created at the end of the file and
 * entered in both grain directories.
 *
 * <p>Crash ordering. Grain bytes are written at once; the tables that point at new grains are held
 * in memory (reads see them at once) and written back at {@link #flush}, in this order: the grain
 * bytes made durable; then the grain tables (changed ones in place, new ones at the end of the
 * file), in both copies; when there are new tables, those made durable before the directory entries
 * that name them are written; then all made durable. A crash at any moment therefore leaves tables
 * that point only at grains whose bytes are on disk, and directories that name only tables that are
 * on disk: at worst, grains written but not yet entered are lost space, which VMDK does not count.
 * Writes acknowledged before a flush returned are all there. Without flushes, the held tables are
 * written back once {@link #MAX_HELD_TABLES} wait.
 *
 * <p>Locking. One lock guards allocation: the end of the file, the grains being allocated, and the
 * tables changed and not yet written back. A grain is allocated by exactly one writer; a second
 * writer of the same grain waits for the first, then writes into the grain it allocated. Writes to
 * allocated grains take no lock at all. Flushes are serialised by a lock of their own and hold the
 * allocation lock only to take their snapshot of the changed tables.
 */
final class GrainWriter {
    private static final VarHandle ENTRY = GrainExtent.ENTRY;
    /** Changed tables held (4 KiB each at VMware's geometry) before they are written back unasked. */
    static final int MAX_HELD_TABLES = 1024;
    /** Grain table entries are 32-bit sector numbers: the file cannot address beyond 2 TiB. */
    private static final long MAX_FILE_BYTES = 0xffffffffL * 512;

    private final HostedSparseExtent extent;
    private final Storage storage;
    private final int grainBytes;
    private final int tableEntries;
    /** A grain table's size in the file, whole sectors. */
    private final int tableBytes;
    /** New grains and tables start on multiples of this (a page, or the grain if smaller). */
    private final int align;
    private final long directoryAt;
    private final long redundantAt;
    /** The extent's directory (byte offsets of the tables, 0 for none), shared with its reader. */
    private final long[] directory;
    /** The redundant directory's table offsets, or null when the extent has none. */
    private final long[] redundant;
    /** Whether a table entry of 1 (a zeroed grain) is understood by readers of this extent. */
    private final boolean zeroedGrains;

    private final Object lock = new Object();
    private final Object flushLock = new Object();
    /** Tables changed and not yet written back (readers look here first). Changed under the lock. */
    private final Map<Long, long[]> held = new ConcurrentHashMap<>();
    /** The held tables changed since the last write-back began. Under the lock. */
    private final Set<Long> dirty = new LinkedHashSet<>();
    /** Grains being allocated now. Under the lock. */
    private final Set<Long> allocating = new HashSet<>();
    /** Where the next grain or table goes. Under the lock. */
    private long end;

    GrainWriter(HostedSparseExtent extent, Storage storage, SparseHeader header, long[] directory, long[] redundant)
            throws IOException {
        this.extent = extent;
        this.storage = storage;
        this.grainBytes = (int) (header.grainSize() * 512);
        this.tableEntries = header.numGTEsPerGT();
        this.tableBytes = (int) ((4L * tableEntries + 511) / 512 * 512);
        this.align = Math.min(grainBytes, 4096);
        this.directoryAt = header.gdOffset() * 512;
        this.redundantAt = redundant == null ? 0 : header.rgdOffset() * 512;
        this.directory = directory;
        this.redundant = redundant;
        this.zeroedGrains = header.zeroedGrains();
        // As qemu does: new grains start past the file's end, rounded up to a whole grain.
        long size = storage.size();
        this.end = (size + grainBytes - 1) / grainBytes * grainBytes;
    }

    /** The changed table {@code index} not yet written back, or null. */
    long[] pinned(long index) {
        return held.get(index);
    }

    /** Writes all of {@code src} at local {@code offset}, grain by grain. */
    void write(ByteBuffer src, long offset, long base, Beneath beneath) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            long grain = pos / grainBytes;
            int within = (int) (pos - grain * grainBytes);
            int n = Math.min(grainBytes - within, src.remaining());
            ByteBuffer part = src.slice().limit(n);
            writeGrain(grain, within, part, base, beneath);
            src.position(src.position() + n);
            pos += n;
        }
    }

    private void writeGrain(long grain, int within, ByteBuffer part, long base, Beneath beneath) throws IOException {
        long where = entry(grain);
        if (where < 0) {
            where = allocate(grain, within, part, base, beneath);
            if (where < 0) {
                return; // the new grain was written whole, these bytes with it
            }
        }
        storage.writeAt(part, where + within);
    }

    /**
     * Allocates {@code grain} and writes it whole, {@code part} at {@code within} and the rest from
     * beneath (or zeros for a zeroed grain). Returns -1 when done; or, when another writer allocated
     * the grain meanwhile, where it lies (the caller then writes {@code part} there).
     */
    private long allocate(long grain, int within, ByteBuffer part, long base, Beneath beneath) throws IOException {
        long at;
        boolean zeroed;
        synchronized (lock) {
            awaitAllocation(grain);
            long where = entry(grain);
            if (where >= 0) {
                return where;
            }
            zeroed = where == GrainExtent.ZEROED;
            at = reserve(grainBytes);
            allocating.add(grain);
        }
        boolean written = false;
        try {
            ByteBuffer whole = ByteBuffer.allocate(grainBytes);
            long grainStart = grain * grainBytes;
            if (part.remaining() < grainBytes && !zeroed) {
                // Bytes of the last grain past the extent's end belong to no one: they stay zeros.
                int inExtent = (int) Math.min(grainBytes, extent.length() - grainStart);
                beneath.read(whole.slice(0, inExtent), base + grainStart);
            }
            whole.put(within, part, part.position(), part.remaining());
            storage.writeAt(whole, at);
            written = true;
        } finally {
            synchronized (lock) {
                if (written) {
                    setEntry(grain, at);
                }
                allocating.remove(grain);
                lock.notifyAll();
            }
        }
        writeBackWhenTooMany();
        return -1;
    }

    /** Waits, holding the lock, until no other writer is allocating {@code grain}. */
    private void awaitAllocation(long grain) throws IOException {
        while (allocating.contains(grain)) {
            try {
                lock.wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for a grain allocation");
            }
        }
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeros. Allocated grains get zeros written in
     * place (they stay allocated: VMDK cannot free space inside a file). Unallocated grains that
     * already read as zeros (no parent there) are left alone; a whole one that would read the
     * parent's bytes becomes a zeroed grain when the extent has zeroed-grain entries, and gets zeros
     * written (so is allocated) otherwise.
     */
    void discard(long offset, long length, long base, Beneath beneath) throws IOException {
        long pos = offset;
        long stop = offset + length;
        ByteBuffer zeros = null;
        while (pos < stop) {
            long grain = pos / grainBytes;
            int within = (int) (pos - grain * grainBytes);
            int n = (int) Math.min(grainBytes - within, stop - pos);
            long where = entry(grain);
            boolean whole = within == 0 && (n == grainBytes || pos + n == extent.length());
            boolean done = where == GrainExtent.ZEROED
                    || where == GrainExtent.UNALLOCATED && beneath.zeros(base + pos, n)
                    || where == GrainExtent.UNALLOCATED && whole && zeroedGrains && markZeroed(grain);
            if (!done) {
                zeros = zeros == null ? ByteBuffer.allocate(grainBytes) : zeros;
                writeGrain(grain, within, zeros.clear().limit(n), base, beneath);
            }
            pos += n;
        }
    }

    /** Sets {@code grain}'s entry to "zeroed" if it is still unallocated; returns whether it did. */
    private boolean markZeroed(long grain) throws IOException {
        synchronized (lock) {
            awaitAllocation(grain);
            if (entry(grain) != GrainExtent.UNALLOCATED) {
                return false;
            }
            setEntry(grain, GrainExtent.ZEROED);
        }
        writeBackWhenTooMany();
        return true;
    }

    /** Where {@code grain} lies, or UNALLOCATED / ZEROED, as the tables stand now. */
    private long entry(long grain) throws IOException {
        long index = grain / tableEntries;
        if (index >= directory.length) {
            throw new ImageException(storage.name(), "grain " + grain + " lies beyond the capacity in the header");
        }
        long[] table = extent.table(index);
        return table.length == 0 ? GrainExtent.UNALLOCATED
                : (long) ENTRY.getAcquire(table, (int) (grain - index * tableEntries));
    }

    /** Sets a table entry, holding the table until it is written back. Under the lock. */
    private void setEntry(long grain, long value) throws IOException {
        long index = grain / tableEntries;
        long[] table = held.get(index);
        if (table == null) {
            long[] cached = extent.tableFromCache(index);
            if (cached.length == 0) {
                table = new long[tableEntries];
                Arrays.fill(table, GrainExtent.UNALLOCATED);
            } else {
                table = cached;
            }
            held.put(index, table);
        }
        ENTRY.setRelease(table, (int) (grain - index * tableEntries), value);
        dirty.add(index);
    }

    /** Reserves {@code bytes} at the end of the file. Under the lock. */
    private long reserve(long bytes) throws ImageException {
        long at = end;
        long next = (at + bytes + align - 1) / align * align;
        if (next > MAX_FILE_BYTES) {
            throw new ImageException(storage.name(), "the extent file is full: a sparse extent's tables address"
                    + " at most 2 TiB of file");
        }
        end = next;
        return at;
    }

    private void writeBackWhenTooMany() throws IOException {
        boolean tooMany;
        synchronized (lock) {
            tooMany = dirty.size() >= MAX_HELD_TABLES;
        }
        if (tooMany) {
            flush();
        }
    }

    /** One changed table to write back: its entries as they stood, and where both copies go. */
    private record TableWrite(long index, long[] table, ByteBuffer bytes, long at, long redundantAt, boolean isNew) {
    }

    /**
     * Makes every write that completed before this call durable, and the tables that find it: see
     * the class comment for the order.
     */
    void flush() throws IOException {
        synchronized (flushLock) {
            List<TableWrite> writes = snapshot();
            boolean ok = false;
            try {
                storage.flush();
                if (writes.isEmpty()) {
                    ok = true;
                    return;
                }
                boolean anyNew = false;
                for (TableWrite w : writes) {
                    storage.writeAt(w.bytes().duplicate(), w.at());
                    if (redundant != null) {
                        storage.writeAt(w.bytes().duplicate(), w.redundantAt());
                    }
                    anyNew |= w.isNew();
                }
                if (anyNew) {
                    storage.flush();
                    for (TableWrite w : writes) {
                        if (w.isNew()) {
                            enterTable(w);
                        }
                    }
                }
                storage.flush();
                ok = true;
            } finally {
                release(writes, ok);
            }
        }
    }

    /**
     * Takes the changed tables' entries as they stand (every grain they name has been written) and
     * places the new tables at the end of the file.
     */
    private List<TableWrite> snapshot() throws IOException {
        List<TableWrite> writes = new ArrayList<>();
        synchronized (lock) {
            for (long index : dirty) {
                long[] table = held.get(index);
                long at = (long) ENTRY.getAcquire(directory, (int) index);
                boolean isNew = at == 0;
                long copyAt = redundant == null ? 0 : redundant[(int) index];
                if (isNew) {
                    at = reserve(tableBytes);
                    copyAt = redundant == null ? 0 : reserve(tableBytes);
                }
                writes.add(new TableWrite(index, table, encode(table), at, copyAt, isNew));
            }
            dirty.clear();
        }
        return writes;
    }

    private ByteBuffer encode(long[] table) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * tableEntries).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < tableEntries; i++) {
            long where = (long) ENTRY.getAcquire(table, i);
            long sector = where == GrainExtent.UNALLOCATED ? 0 : where == GrainExtent.ZEROED ? 1 : where / 512;
            bytes.putInt((int) sector);
        }
        return bytes.flip();
    }

    /** Enters a new table, now durable, in both directories. */
    private void enterTable(TableWrite w) throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        storage.writeAt(entry.putInt(0, (int) (w.at() / 512)).clear(), directoryAt + 4 * w.index());
        if (redundant != null) {
            storage.writeAt(entry.putInt(0, (int) (w.redundantAt() / 512)).clear(), redundantAt + 4 * w.index());
            redundant[(int) w.index()] = w.redundantAt();
        }
        ENTRY.setRelease(directory, (int) w.index(), w.at());
    }

    /**
     * After a write-back: tables unchanged since are handed to the shared cache and no longer held.
     * After a failure, the tables are marked changed again so the next flush writes them.
     */
    private void release(List<TableWrite> writes, boolean ok) {
        synchronized (lock) {
            for (TableWrite w : writes) {
                if (!ok) {
                    dirty.add(w.index());
                } else if (!dirty.contains(w.index())) {
                    extent.tableWritten(w.index(), w.table());
                    held.remove(w.index());
                }
            }
        }
    }
}
