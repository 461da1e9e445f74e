package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The fixed qcow2 header (bytes 0 to header_length), checked for sanity: every field that later
 * sizes an allocation or a loop is validated here against hard limits and the file size.
 */
record Qcow2Header(
        int version,
        long backingFileOffset,
        int backingFileSize,
        int clusterBits,
        long size,
        long l1Size,
        long l1TableOffset,
        long refcountTableOffset,
        long refcountTableClusters,
        long snapshotCount,
        long snapshotsOffset,
        long incompatibleFeatures,
        long compatibleFeatures,
        long autoclearFeatures,
        int refcountOrder,
        int headerLength,
        int compressionType) {

    static final int MAGIC = 0x514649fb;
    static final int V2_HEADER_LENGTH = 72;
    static final int V3_MIN_HEADER_LENGTH = 104;
    /** qemu's range; smaller clusters make tables absurd, larger ones do not fit the descriptors. */
    static final int MIN_CLUSTER_BITS = 9;
    static final int MAX_CLUSTER_BITS = 21;

    static final int INCOMPAT_DIRTY = 0;
    static final int INCOMPAT_CORRUPT = 1;
    static final int INCOMPAT_DATA_FILE = 2;
    static final int INCOMPAT_COMPRESSION_TYPE = 3;
    static final int INCOMPAT_EXTENDED_L2 = 4;
    static final long KNOWN_INCOMPATIBLE = 0b11111;
    static final int COMPAT_LAZY_REFCOUNTS = 0;
    static final int AUTOCLEAR_BITMAPS = 0;
    static final int AUTOCLEAR_DATA_FILE_RAW = 1;

    static Qcow2Header read(Storage storage, long fileSize) throws IOException {
        String file = storage.name();
        if (fileSize < V2_HEADER_LENGTH) {
            throw new ImageException(file, "too short for a qcow2 header (" + fileSize + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(fileSize, V3_MIN_HEADER_LENGTH + 8));
        storage.readFully(b, 0);
        b.flip();
        if (b.getInt(0) != MAGIC) {
            throw new ImageException(file, "not a qcow2 image (bad magic)");
        }
        int version = b.getInt(4);
        if (version != 2 && version != 3) {
            throw new ImageException(file, "qcow2 version " + Integer.toUnsignedString(version) + " is not supported");
        }
        long backingOffset = b.getLong(8);
        int backingSize = b.getInt(16);
        int clusterBits = b.getInt(20);
        long size = b.getLong(24);
        int cryptMethod = b.getInt(32);
        long l1Size = Integer.toUnsignedLong(b.getInt(36));
        long l1Offset = b.getLong(40);
        long refcountOffset = b.getLong(48);
        long refcountClusters = Integer.toUnsignedLong(b.getInt(56));
        long snapshotCount = Integer.toUnsignedLong(b.getInt(60));
        long snapshotsOffset = b.getLong(64);

        if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
            throw new ImageException(file, "cluster_bits " + Integer.toUnsignedString(clusterBits)
                    + " is out of range (" + MIN_CLUSTER_BITS + " to " + MAX_CLUSTER_BITS + ")");
        }
        if (cryptMethod == 1 || cryptMethod == 2) {
            throw new ImageException(file, "encrypted qcow2 is not supported yet ("
                    + (cryptMethod == 1 ? "AES" : "LUKS") + ")");
        }
        if (cryptMethod != 0) {
            throw new ImageException(file, "unknown encryption method " + Integer.toUnsignedString(cryptMethod));
        }
        if (size < 0) {
            throw new ImageException(file, "virtual size " + Long.toUnsignedString(size) + " is too large");
        }

        long incompatible = 0;
        long compatible = 0;
        long autoclear = 0;
        int refcountOrder = 4;
        int headerLength = V2_HEADER_LENGTH;
        int compressionType = 0;
        if (version >= 3) {
            if (b.limit() < V3_MIN_HEADER_LENGTH) {
                throw new ImageException(file, "too short for a qcow2 v3 header (" + fileSize + " bytes)");
            }
            incompatible = b.getLong(72);
            compatible = b.getLong(80);
            autoclear = b.getLong(88);
            refcountOrder = b.getInt(96);
            headerLength = b.getInt(100);
            int clusterSize = 1 << clusterBits;
            if (headerLength < V3_MIN_HEADER_LENGTH || headerLength > clusterSize) {
                throw new ImageException(file, "header_length " + Integer.toUnsignedString(headerLength)
                        + " is invalid (must be " + V3_MIN_HEADER_LENGTH + " to the cluster size " + clusterSize + ")");
            }
            if (headerLength > V3_MIN_HEADER_LENGTH) {
                if (b.limit() <= V3_MIN_HEADER_LENGTH) {
                    throw new ImageException(file, "truncated: the header needs " + headerLength
                            + " bytes, but the file is " + fileSize + " bytes");
                }
                compressionType = Byte.toUnsignedInt(b.get(V3_MIN_HEADER_LENGTH));
            }
            if (refcountOrder < 0 || refcountOrder > 6) {
                throw new ImageException(file, "refcount_order " + Integer.toUnsignedString(refcountOrder)
                        + " is invalid (0 to 6)");
            }
        }
        return new Qcow2Header(version, backingOffset, backingSize, clusterBits, size, l1Size, l1Offset,
                refcountOffset, refcountClusters, snapshotCount, snapshotsOffset, incompatible, compatible,
                autoclear, refcountOrder, headerLength, compressionType);
    }

    int clusterSize() {
        return 1 << clusterBits;
    }

    boolean hasIncompatible(int bit) {
        return (incompatibleFeatures & (1L << bit)) != 0;
    }

    boolean hasCompatible(int bit) {
        return (compatibleFeatures & (1L << bit)) != 0;
    }

    boolean hasAutoclear(int bit) {
        return (autoclearFeatures & (1L << bit)) != 0;
    }

    boolean extendedL2() {
        return hasIncompatible(INCOMPAT_EXTENDED_L2);
    }

    /** Where header extensions may live: after the header, up to the backing name or the first cluster's end. */
    long extensionsEnd() {
        long end = clusterSize();
        if (backingFileOffset > 0 && backingFileOffset < end) {
            end = backingFileOffset;
        }
        return end;
    }
}
