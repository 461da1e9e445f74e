package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.TableCache;
import org.vdmount.formats.compress.Codec;
import org.vdmount.formats.compress.CompressedBlocks;

/**
 * What the three sparse extent kinds (hosted KDMV, ESXi COWD, seSparse) share: a grain directory of
 * grain tables, each entry saying where a grain lives, that it is zero, or that the parent decides.
 * Subclasses decode their own directory and table entries into {@link #UNALLOCATED},
 * {@link #ZEROED} or a byte offset in the file.
 */
abstract class GrainExtent implements Extent {
    static final long UNALLOCATED = -1;
    static final long ZEROED = -2;
    /** A grain whose place in the file is unknown: reading it is an error. */
    static final long UNKNOWN = -3;
    /** A directory entry with no table: every grain it covers is unallocated. */
    static final long[] NO_TABLE = new long[0];
    /**
     * Table entries and directory entries of a writable extent change while other threads read
     * them: they are set with release and read with acquire, so a reader that sees a new grain's
     * entry sees the grain's bytes written too.
     */
    static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);

    protected final Storage storage;
    protected final long fileSize;
    private final long length;
    protected final int grainBytes;
    protected final int tableEntries;
    private final long tableCount;
    private final TableCache tables;
    private volatile CompressedBlocks grains;

    GrainExtent(Storage storage, long length, int grainBytes, int tableEntries, long tableCount, TableCache tables)
            throws IOException {
        this.storage = storage;
        this.fileSize = storage.size();
        this.length = length;
        this.grainBytes = grainBytes;
        this.tableEntries = tableEntries;
        this.tableCount = tableCount;
        this.tables = tables;
    }

    /** The decoded entries of grain table {@code index}, or {@link #NO_TABLE}. */
    protected abstract long[] loadTable(long index) throws IOException;

    /**
     * Grain table {@code index} as it stands now: a writable extent holds the tables it changed
     * and has not yet written back; the others come from the shared cache.
     */
    protected long[] table(long index) throws IOException {
        return cachedTable(index);
    }

    /** Grain table {@code index} from the shared cache, loaded from the file when not held. */
    protected final long[] cachedTable(long index) throws IOException {
        return tables.get(this, index, () -> loadTable(index));
    }

    /** Hands a table written back to the file to the shared cache, in place of any older copy. */
    protected final void cacheTable(long index, long[] table) {
        tables.put(this, index, table);
    }

    /** Whether allocated grains are stored deflated (streamOptimized). */
    protected boolean compressed() {
        return false;
    }

    /** Whether compressed grains start with a grain marker (LBA and size). */
    protected boolean markers() {
        return false;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public boolean compressedGrains() {
        return compressed();
    }

    @Override
    public int grainBytes() {
        return grainBytes;
    }

    @Override
    public void map(long offset, long len, long base, RunSink sink) throws IOException {
        RunMerger merger = new RunMerger(sink);
        long pos = offset;
        long end = offset + len;
        long current = -1;
        long[] table = NO_TABLE;
        long tableSpan = (long) grainBytes * tableEntries;
        while (pos < end) {
            long grain = pos / grainBytes;
            long index = grain / tableEntries;
            if (index >= tableCount) {
                merger.add(RunKind.BACKING, base + pos, end - pos, null, 0);
                break;
            }
            if (index != current) {
                table = table(index);
                current = index;
            }
            if (table.length == 0) {
                long stop = Math.min(end, (index + 1) * tableSpan);
                merger.add(RunKind.BACKING, base + pos, stop - pos, null, 0);
                pos = stop;
                continue;
            }
            int within = (int) (pos - grain * grainBytes);
            long n = Math.min(grainBytes - within, end - pos);
            long where = (long) ENTRY.getAcquire(table, (int) (grain - index * tableEntries));
            if (where == UNALLOCATED) {
                merger.add(RunKind.BACKING, base + pos, n, null, 0);
            } else if (where == ZEROED) {
                merger.add(RunKind.ZERO, base + pos, n, null, 0);
            } else if (where == UNKNOWN) {
                merger.add(RunKind.UNREADABLE, base + pos, n, null, 0);
            } else if (compressed()) {
                merger.add(RunKind.COMPRESSED, base + pos, n, storage, where);
            } else {
                merger.add(RunKind.DATA, base + pos, n, storage, where + within);
            }
            pos += n;
        }
        merger.flush();
    }

    @Override
    public void readCompressed(long offset, long locator, long base, ByteBuffer dst) throws IOException {
        long grainStart = offset - offset % grainBytes;
        grains().read(locator, base + grainStart, (int) (offset - grainStart), dst);
    }

    /** Created on first use: only streamOptimized extents ever need it. */
    private CompressedBlocks grains() {
        CompressedBlocks g = grains;
        if (g == null) {
            synchronized (this) {
                if (grains == null) {
                    // A stream's last grain may be short when the disk ends inside it: zeros follow.
                    grains = new CompressedBlocks(storage, "grain", grainBytes, Codec.Kind.ZLIB, true,
                            this::locateGrain);
                }
                g = grains;
            }
        }
        return g;
    }

    /**
     * Where the deflated bytes of the grain at {@code at} lie: after its 12-byte marker (LBA, size)
     * when the extent has markers; else up to twice a grain, as far as the file goes.
     */
    private void locateGrain(long at, long grainStart, CompressedBlocks.Stored where) throws IOException {
        int limit = 2 * grainBytes + 4096;
        if (!markers()) {
            long available = Math.min(limit, fileSize - at);
            if (at <= 0 || available <= 0) {
                throw new ImageException(storage.name(), "compressed grain at virtual offset " + grainStart
                        + " lies at host offset " + at + ", past the end of the file (" + fileSize + " bytes)");
            }
            where.set(at, (int) available);
            return;
        }
        if (at <= 0 || at > fileSize - 12) {
            throw new ImageException(storage.name(), "compressed grain at virtual offset " + grainStart
                    + " lies at host offset " + at + ", past the end of the file (" + fileSize + " bytes)");
        }
        long size = read(at, 12).getInt(8) & 0xffffffffL;
        if (size == 0 || size > limit) {
            throw new ImageException(storage.name(), "compressed grain at virtual offset " + grainStart
                    + " (host offset " + at + ") has an impossible size of " + size + " bytes");
        }
        if (size > fileSize - at - 12) {
            throw new ImageException(storage.name(), "compressed grain at virtual offset " + grainStart
                    + " (host offset " + at + ") is truncated: " + size + " bytes wanted, the file ends after "
                    + (fileSize - at - 12));
        }
        where.set(at + 12, (int) size);
    }

    protected final ByteBuffer read(long at, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        storage.readFully(buf, at);
        return buf.flip();
    }

    /** Checks that a table of {@code bytes} at {@code at} lies inside the file. */
    protected final boolean inFile(long at, long bytes) {
        return at > 0 && at <= fileSize && bytes <= fileSize - at;
    }

    @Override
    public void close() throws IOException {
        tables.clear(this);
        CompressedBlocks g = grains;
        if (g != null) {
            g.clear();
        }
        storage.close();
    }

    @Override
    public String toString() {
        return storage.name();
    }
}
