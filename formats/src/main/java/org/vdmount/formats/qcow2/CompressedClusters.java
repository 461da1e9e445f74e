package org.vdmount.formats.qcow2;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * Reads compressed clusters. Each reader thread has its own decoder and buffers (decoders keep
 * state), so threads decompress in parallel. Clusters read only in part are kept in a small shared
 * cache, so that a sequential reader whose reads split a cluster decodes it once, not once per piece.
 */
final class CompressedClusters {
    private static final int SECTOR = 512;
    /** Enough for the partly read clusters of a handful of concurrent sequential readers. */
    private static final long CACHE_BYTES = 8L << 20;

    private final Storage storage;
    private final int clusterSize;
    private final long fileSize;
    private final int sizeShift;
    private final long offsetMask;
    private final long sectorsMask;
    private final ThreadLocal<Scratch> scratch;
    private final Cache<Long, byte[]> partial;

    /** A thread's decoder and buffers. */
    private static final class Scratch {
        final ClusterCodec codec;
        final byte[] in;
        final byte[] out;

        Scratch(ClusterCodec codec, int clusterSize) {
            this.codec = codec;
            this.in = new byte[2 * clusterSize];
            this.out = new byte[clusterSize];
        }
    }

    CompressedClusters(Storage storage, int clusterBits, long fileSize, Supplier<ClusterCodec> codecs) {
        this.storage = storage;
        this.clusterSize = 1 << clusterBits;
        this.fileSize = fileSize;
        this.sizeShift = 62 - (clusterBits - 8);
        this.offsetMask = (1L << sizeShift) - 1;
        this.sectorsMask = (1L << (clusterBits - 8)) - 1;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(codecs.get(), clusterSize));
        this.partial = CacheBuilder.newBuilder()
                .maximumWeight(Math.max(CACHE_BYTES, 4L * clusterSize))
                .weigher((Long key, byte[] value) -> value.length)
                .build();
    }

    /**
     * Fills {@code dst} with bytes {@code [from, from + dst.remaining())} of the cluster described by
     * {@code descriptor}, which holds virtual offset {@code clusterStart}.
     */
    void read(long descriptor, long clusterStart, int from, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (from == 0 && length == clusterSize) {
            Scratch s = scratch.get();
            decompress(descriptor, clusterStart, s, s.out);
            dst.put(s.out, 0, clusterSize);
            return;
        }
        byte[] cluster = partial.getIfPresent(descriptor);
        if (cluster == null) {
            cluster = new byte[clusterSize];
            decompress(descriptor, clusterStart, scratch.get(), cluster);
            partial.put(descriptor, cluster);
        }
        dst.put(cluster, from, length);
    }

    private void decompress(long descriptor, long clusterStart, Scratch s, byte[] out) throws IOException {
        long host = descriptor & offsetMask;
        long sectors = ((descriptor >>> sizeShift) & sectorsMask) + 1;
        long size = sectors * SECTOR - (host & (SECTOR - 1));
        if (host < SECTOR || host >= fileSize) {
            throw new ImageException(storage.name(), "compressed cluster at virtual offset " + clusterStart
                    + " points to host offset " + host + ", outside the " + fileSize + "-byte file");
        }
        // The last compressed cluster's sectors may run past the end of the file: qemu only writes
        // the bytes it needs, and decoding stops once the cluster is full.
        int available = (int) Math.min(size, fileSize - host);
        ByteBuffer in = ByteBuffer.wrap(s.in, 0, available);
        storage.readFully(in, host);
        int produced;
        try {
            produced = s.codec.decompress(s.in, available, out, clusterSize);
        } catch (ClusterCodec.DamagedException e) {
            throw new ImageException(storage.name(), "compressed cluster at virtual offset " + clusterStart
                    + ": " + e.getMessage());
        }
        if (produced != clusterSize) {
            throw new ImageException(storage.name(), "compressed cluster at virtual offset " + clusterStart
                    + " decodes to " + produced + " bytes instead of " + clusterSize);
        }
    }
}
