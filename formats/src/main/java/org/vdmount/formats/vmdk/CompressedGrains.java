package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.vdmount.formats.io.Buffers;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The compressed grains of one streamOptimized extent: each a zlib stream (RFC 1950, header
 * included), after a 12-byte marker (grain LBA, compressed size) when the extent uses markers.
 * Whole grains inflate straight into the reader's buffer; partly read grains are kept in a small
 * cache, as readers that cross grain boundaries come back for the rest. Safe for many threads.
 */
final class CompressedGrains {
    /** Inflated grains kept: enough for readers crossing grain boundaries. */
    private static final int INFLATED_CACHE = 16;
    private static final ThreadLocal<Inflater> INFLATERS = ThreadLocal.withInitial(() -> new Inflater(false));

    private final Storage storage;
    private final long fileSize;
    private final int grainBytes;
    private final boolean markers;
    private final Map<Long, byte[]> inflated = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > INFLATED_CACHE;
        }
    };

    CompressedGrains(Storage storage, long fileSize, int grainBytes, boolean markers) {
        this.storage = storage;
        this.fileSize = fileSize;
        this.grainBytes = grainBytes;
        this.markers = markers;
    }

    /** Fills {@code dst} from local {@code offset} of the grain at {@code locator}. */
    void read(long offset, long locator, ByteBuffer dst) throws IOException {
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
        if (markers) {
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
        Buffers.fillZeros(out);
    }

}
