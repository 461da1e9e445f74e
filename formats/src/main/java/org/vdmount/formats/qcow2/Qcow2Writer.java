package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.vdmount.formats.Storage;

/**
 * The write side of one writable qcow2 image: the lock that orders writers and readers, and the
 * flush that makes metadata durable in qemu's order.
 *
 * <p>Locking: readers, and writers whose clusters are all writable in place, hold the read lock
 * (they change no metadata, so they run in parallel); anything that allocates, changes a table or
 * flushes holds the write lock, so two writers of the same unallocated cluster never both allocate
 * it and a reader never sees a table half changed.
 *
 * <p>Ordering (each arrow a flush of the file, made only when both sides wrote something; guest
 * data in an external data file is flushed first, on every flush): guest data and refcount
 * blocks → refcount table entries (or a moved table, then the header) → L2 tables → L1 entries →
 * the released clusters' refcounts. Until a flush, the new metadata lives in memory
 * only; the file always holds a consistent older state plus leaked clusters at most.
 */
final class Qcow2Writer {
    /** Changed metadata held in memory before a flush is forced, bounding memory between flushes. */
    private static final long MAX_PENDING_BYTES = 32L << 20;
    private static final int HEADER_AUTOCLEAR = 88;

    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final Storage storage;
    private final Qcow2Header header;
    private final Refcounts refcounts;
    private final L2Updater tables;
    private final GuestWriter clusters;
    private final HostClusters hosts;
    private final int clusterSize;
    /** The autoclear bits the writer keeps true: data_file_raw (it keeps a raw data file the disk). */
    private final long keptAutoclear;
    private volatile boolean headerReady;

    Qcow2Writer(Storage storage, Qcow2Header header, Refcounts refcounts, L2Updater tables, GuestWriter clusters,
            HostClusters hosts) {
        this.storage = storage;
        this.header = header;
        this.refcounts = refcounts;
        this.tables = tables;
        this.clusters = clusters;
        this.hosts = hosts;
        this.clusterSize = header.clusterSize();
        this.keptAutoclear = header.autoclearFeatures() & (1L << Qcow2Header.AUTOCLEAR_DATA_FILE_RAW);
        this.headerReady = header.autoclearFeatures() == keptAutoclear;
    }

    ReadWriteLock lock() {
        return lock;
    }

    void write(ByteBuffer src, long offset) throws IOException {
        if (headerReady && writeInPlace(src, offset)) {
            return;
        }
        lock.writeLock().lock();
        try {
            prepareHeader();
            clusters.write(src, offset);
            flushIfLarge();
        } finally {
            lock.writeLock().unlock();
        }
    }

    void zero(long offset, long length) throws IOException {
        lock.writeLock().lock();
        try {
            prepareHeader();
            clusters.zero(offset, length);
            flushIfLarge();
        } finally {
            lock.writeLock().unlock();
        }
    }

    void flush() throws IOException {
        lock.writeLock().lock();
        try {
            // Each step starts with a flush of the file, so that what it points at (guest data,
            // refcounts, tables) is durable first; a step with nothing to do costs nothing. Guest
            // data in an external data file is made durable before anything else.
            hosts.flush();
            refcounts.storeIncrements();
            if (tables.hasChangedTables()) {
                storage.flush();
                tables.storeTables();
            }
            if (tables.hasChangedL1()) {
                storage.flush();
                tables.storeL1();
            }
            if (refcounts.hasReleases()) {
                storage.flush();
                refcounts.applyReleases();
            }
            storage.flush();
            refcounts.trim();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Writes in place under the read lock when every cluster of the range allows it; false otherwise. */
    private boolean writeInPlace(ByteBuffer src, long offset) throws IOException {
        lock.readLock().lock();
        try {
            long end = offset + src.remaining();
            for (long c = offset & -(long) clusterSize; c < end; c += clusterSize) {
                int from = (int) Math.max(0, offset - c);
                int to = (int) Math.min(clusterSize, end - c);
                if (clusters.inPlace(c, from, to) < 0) {
                    return false;
                }
            }
            clusters.write(src, offset);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    private void flushIfLarge() throws IOException {
        if (refcounts.pendingBytes() + tables.pendingBytes() > MAX_PENDING_BYTES) {
            flush();
        }
    }

    /**
     * Clears the autoclear feature bits before the first change, as the spec asks of a writer that
     * does not keep those features (bitmaps) up to date; data_file_raw, which it keeps, stays.
     */
    private void prepareHeader() throws IOException {
        if (headerReady) {
            return;
        }
        storage.writeAt(ByteBuffer.allocate(Long.BYTES).putLong(0, keptAutoclear), HEADER_AUTOCLEAR);
        storage.flush();
        headerReady = true;
    }
}
