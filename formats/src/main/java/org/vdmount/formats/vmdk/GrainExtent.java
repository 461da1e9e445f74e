package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * What the three sparse extent kinds (hosted KDMV, ESXi COWD, seSparse) share: a grain directory of
 * grain tables, each entry saying where a grain lives, that it is zero, or that the parent decides.
 * Subclasses decode their own directory and table entries into {@link #UNALLOCATED},
 * {@link #ZEROED} or a byte offset in the file.
 */
abstract class GrainExtent implements Extent {
    static final long UNALLOCATED = -1;
    static final long ZEROED = -2;
    /** A directory entry with no table: every grain it covers is unallocated. */
    static final long[] NO_TABLE = new long[0];
    /** Inflated grains kept per extent: enough for readers crossing grain boundaries. */
    private static final int INFLATED_CACHE = 16;
    private static final ThreadLocal<Inflater> INFLATERS = ThreadLocal.withInitial(() -> new Inflater(false));

    protected final Storage storage;
    protected final long fileSize;
    private final long length;
    protected final int grainBytes;
    protected final int tableEntries;
    private final long tableCount;
    private final TableCache tables;
    private final Map<Long, byte[]> inflated = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > INFLATED_CACHE;
        }
    };

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
                table = tables.get(this, index, () -> loadTable(index));
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
            long where = table[(int) (grain - index * tableEntries)];
            if (where == UNALLOCATED) {
                merger.add(RunKind.BACKING, base + pos, n, null, 0);
            } else if (where == ZEROED) {
                merger.add(RunKind.ZERO, base + pos, n, null, 0);
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
    public void readCompressed(long offset, long locator, ByteBuffer dst) throws IOException {
        int within = (int) (offset % grainBytes);
        if (within == 0 && dst.remaining() == grainBytes) {
            // A whole grain, as sequential readers ask: inflate straight into the caller's buffer.
            inflate(locator, dst.slice());
            dst.position(dst.limit());
            return;
        }
        byte[] grain;
        synchronized (inflated) {
            grain = inflated.get(locator);
        }
        if (grain == null) {
            grain = new byte[grainBytes];
            inflate(locator, ByteBuffer.wrap(grain));
            synchronized (inflated) {
                inflated.put(locator, grain);
            }
        }
        dst.put(grain, within, dst.remaining());
    }

    /** Per-thread buffers for compressed input: decoding allocates nothing per grain. */
    private static final ThreadLocal<ByteBuffer[]> INPUTS = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private static ByteBuffer input(int size) {
        ByteBuffer[] holder = INPUTS.get();
        if (holder[0] == null || holder[0].capacity() < size) {
            holder[0] = ByteBuffer.allocateDirect(Math.max(size, 256 * 1024));
        }
        return holder[0].clear().limit(size);
    }

    /** Inflates the grain at {@code locator} into {@code out} (up to a whole grain); a short grain ends in zeros. */
    private void inflate(long locator, ByteBuffer out) throws IOException {
        long dataAt = locator;
        int dataLength;
        int limit = 2 * grainBytes + 4096;
        if (markers()) {
            if (locator + 12 > fileSize) {
                throw new ImageException(storage.name(), "compressed grain at offset " + locator
                        + " lies past the end of the file (" + fileSize + " bytes)");
            }
            ByteBuffer marker = input(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            storage.readFully(marker, locator);
            long size = marker.getInt(8) & 0xffffffffL;
            if (size == 0 || size > limit) {
                throw new ImageException(storage.name(), "compressed grain at offset " + locator
                        + " has an impossible size of " + size + " bytes");
            }
            dataAt = locator + 12;
            if (dataAt + size > fileSize) {
                throw new ImageException(storage.name(), "compressed grain at offset " + locator
                        + " is truncated: " + size + " bytes wanted, the file ends after "
                        + (fileSize - dataAt));
            }
            dataLength = (int) size;
        } else {
            dataLength = (int) Math.min(limit, fileSize - locator);
            if (dataLength <= 0) {
                throw new ImageException(storage.name(), "compressed grain at offset " + locator
                        + " lies past the end of the file (" + fileSize + " bytes)");
            }
        }
        ByteBuffer in = input(dataLength);
        storage.readFully(in, dataAt);
        in.flip();
        Inflater inflater = INFLATERS.get();
        inflater.reset();
        inflater.setInput(in);
        int wanted = out.remaining();
        boolean finished;
        try {
            while (out.hasRemaining()) {
                int n = inflater.inflate(out);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
            finished = inflater.finished();
        } catch (DataFormatException e) {
            throw new ImageException(storage.name(), "compressed grain at offset " + locator + " is damaged: "
                    + e.getMessage());
        } finally {
            inflater.reset();
        }
        if (out.hasRemaining() && !finished) {
            throw new ImageException(storage.name(), "compressed grain at offset " + locator
                    + " is truncated: its deflate stream ends after " + (wanted - out.remaining()) + " of "
                    + grainBytes + " bytes");
        }
        while (out.hasRemaining()) {
            out.put((byte) 0);
        }
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
        storage.close();
    }

    @Override
    public String toString() {
        return storage.name();
    }
}
