package org.vdmount.formats.qcow2;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.CacheKey;

/**
 * Reads compressed clusters. Each reader thread has its own decoders and buffers (decoders keep
 * state), so threads decompress in parallel. Clusters read only in part are kept in a small shared
 * cache, so that a sequential reader whose reads split a cluster decodes it once, not once per piece.
 */
final class CompressedClusters {
    private static final int SECTOR = 512;
    /** Enough for the partly read clusters of a handful of concurrent sequential readers. */
    private static final long CACHE_BYTES = 16L << 20;

    /** Clusters read in part, of every open image: bounded in total, whatever is open. */
    private static final Cache<CacheKey, byte[]> PARTIAL = CacheBuilder.newBuilder()
            .maximumWeight(CACHE_BYTES)
            .weigher((CacheKey key, byte[] value) -> value.length)
            .build();

    /**
     * A thread's decoders and buffers, shared by every image the thread reads: memory grows with the
     * number of threads (at most 6 MiB each, for 2 MiB clusters), not with the number of images.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        ClusterCodec deflate;
        ClusterCodec zstd;
        byte[] in = new byte[0];
        byte[] out = new byte[0];

        ClusterCodec codec(boolean useZstd) {
            if (useZstd) {
                return zstd == null ? zstd = new ZstdCodec() : zstd;
            }
            return deflate == null ? deflate = new DeflateCodec() : deflate;
        }

        void fit(int clusterSize) {
            if (out.length < clusterSize) {
                out = new byte[clusterSize];
                in = new byte[2 * clusterSize];
            }
        }
    }

    private final Storage storage;
    private final int clusterSize;
    private final long fileSize;
    private final int sizeShift;
    private final long offsetMask;
    private final long sectorsMask;
    private final boolean zstd;

    CompressedClusters(Storage storage, int clusterBits, long fileSize, boolean zstd) {
        this.storage = storage;
        this.clusterSize = 1 << clusterBits;
        this.fileSize = fileSize;
        this.sizeShift = 62 - (clusterBits - 8);
        this.offsetMask = (1L << sizeShift) - 1;
        this.sectorsMask = (1L << (clusterBits - 8)) - 1;
        this.zstd = zstd;
    }

    /**
     * Fills {@code dst} with bytes {@code [from, from + dst.remaining())} of the cluster described by
     * {@code descriptor}, which holds virtual offset {@code clusterStart}.
     */
    void read(long descriptor, long clusterStart, int from, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        Scratch s = SCRATCH.get();
        s.fit(clusterSize);
        if (from == 0 && length == clusterSize) {
            decompress(descriptor, clusterStart, s, s.out);
            dst.put(s.out, 0, clusterSize);
            return;
        }
        CacheKey key = new CacheKey(this, descriptor);
        byte[] cluster = PARTIAL.getIfPresent(key);
        if (cluster == null) {
            cluster = new byte[clusterSize];
            decompress(descriptor, clusterStart, s, cluster);
            PARTIAL.put(key, cluster);
        }
        dst.put(cluster, from, length);
    }

    /** Drops this image's cached clusters, when it is closed. */
    void clear() {
        PARTIAL.asMap().keySet().removeIf(k -> k.owner() == this);
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
            produced = s.codec(zstd).decompress(s.in, available, out, clusterSize);
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
