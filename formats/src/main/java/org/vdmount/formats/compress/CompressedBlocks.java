package org.vdmount.formats.compress;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.cache.CacheKey;
import org.vdmount.formats.io.Buffers;

/**
 * Reads the compressed blocks of one image file (qcow2 clusters, VMDK grains): finds the stored
 * bytes through the format's {@link Locator}, decodes them with the format's {@link Codec.Kind}, and
 * checks the result. Each reader thread has its own decoders and buffers (decoders keep state), so
 * threads decompress in parallel; blocks read only in part are kept in a small cache shared by every
 * image, so that a reader whose reads split a block decodes it once, not once per piece.
 */
public final class CompressedBlocks {
    /** Enough for the partly read blocks of a handful of concurrent sequential readers. */
    private static final long CACHE_BYTES = 16L << 20;

    private static final Cache<CacheKey, byte[]> PARTIAL = CacheBuilder.newBuilder()
            .maximumWeight(CACHE_BYTES)
            .weigher((CacheKey key, byte[] value) -> value.length)
            .build();

    /**
     * A thread's decoders and buffers, shared by every image the thread reads: memory grows with the
     * number of threads (a few MiB each at most), not with the number of images.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Where the compressed bytes of one block lie. Filled by a {@link Locator}. */
    public static final class Stored {
        long offset;
        int length;

        /** The bytes {@code [offset, offset + length)} of the storage hold the block. */
        public void set(long offset, int length) {
            this.offset = offset;
            this.length = length;
        }
    }

    /** The format's part: where the block it described with {@code locator} is stored. */
    @FunctionalInterface
    public interface Locator {
        /**
         * Fills {@code where} for the block the format described with {@code locator}, checking the
         * place against the file; {@code blockStart} (a virtual offset) is for error messages.
         */
        void locate(long locator, long blockStart, Stored where) throws IOException;
    }

    private static final class Scratch {
        final Codec[] codecs = new Codec[Codec.Kind.values().length];
        final Stored stored = new Stored();
        byte[] in = new byte[0];
        byte[] out = new byte[0];

        Codec codec(Codec.Kind kind) {
            Codec c = codecs[kind.ordinal()];
            return c != null ? c : (codecs[kind.ordinal()] = kind.create());
        }

        byte[] in(int length) {
            if (in.length < length) {
                in = new byte[length];
            }
            return in;
        }

        byte[] out(int length) {
            if (out.length < length) {
                out = new byte[length];
            }
            return out;
        }
    }

    private final Storage storage;
    private final String unit;
    private final int blockSize;
    private final Codec.Kind kind;
    private final boolean shortEndsInZeros;
    private final Locator locator;

    /**
     * @param unit             what errors call a block: "cluster", "grain"
     * @param blockSize        bytes a block decodes to
     * @param shortEndsInZeros whether a stream that ends properly before the block is full means
     *                         zeros for the rest (VMDK's last grain), rather than damage (qcow2)
     */
    public CompressedBlocks(Storage storage, String unit, int blockSize, Codec.Kind kind, boolean shortEndsInZeros,
            Locator locator) {
        this.storage = storage;
        this.unit = unit;
        this.blockSize = blockSize;
        this.kind = kind;
        this.shortEndsInZeros = shortEndsInZeros;
        this.locator = locator;
    }

    public Codec.Kind kind() {
        return kind;
    }

    /**
     * Fills {@code dst} with bytes {@code [from, from + dst.remaining())} of the block described by
     * {@code locator}, which holds virtual offset {@code blockStart}.
     */
    public void read(long locator, long blockStart, int from, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        Scratch s = SCRATCH.get();
        if (from == 0 && length == blockSize) {
            byte[] out = s.out(blockSize);
            decode(locator, blockStart, s, out);
            dst.put(out, 0, blockSize);
            return;
        }
        CacheKey key = new CacheKey(this, locator);
        byte[] block = PARTIAL.getIfPresent(key);
        if (block == null) {
            block = new byte[blockSize];
            decode(locator, blockStart, s, block);
            PARTIAL.put(key, block);
        }
        dst.put(block, from, length);
    }

    /** Drops this file's cached blocks, when its image is closed. */
    public void clear() {
        PARTIAL.asMap().keySet().removeIf(k -> k.owner() == this);
    }

    private void decode(long where, long blockStart, Scratch s, byte[] out) throws IOException {
        Stored stored = s.stored;
        locator.locate(where, blockStart, stored);
        byte[] in = s.in(stored.length);
        storage.readFully(ByteBuffer.wrap(in, 0, stored.length), stored.offset);
        Codec codec = s.codec(kind);
        int produced;
        try {
            produced = codec.decompress(in, stored.length, out, blockSize);
        } catch (Codec.DamagedException e) {
            throw problem(blockStart, stored, e.getMessage());
        }
        if (produced == blockSize) {
            return;
        }
        if (!codec.ended()) {
            throw problem(blockStart, stored, "is truncated: its " + kind.label() + " stream ends after "
                    + produced + " of " + blockSize + " bytes");
        }
        if (!shortEndsInZeros) {
            throw problem(blockStart, stored, "decodes to " + produced + " bytes instead of " + blockSize);
        }
        Buffers.fillZeros(ByteBuffer.wrap(out, produced, blockSize - produced));
    }

    private ImageException problem(long blockStart, Stored stored, String what) {
        return new ImageException(storage.name(), (kind.compresses() ? "compressed " : "") + unit + " at virtual offset " + blockStart
                + " (host offset " + stored.offset + ") " + (what.startsWith("is ") || what.startsWith("decodes")
                ? what : "is damaged: " + what));
    }
}
