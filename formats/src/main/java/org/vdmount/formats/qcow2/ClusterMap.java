package org.vdmount.formats.qcow2;

import java.io.IOException;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * Translates virtual offsets to runs through one L1 table (the active one or a snapshot's) and the
 * L2 tables it points to: data at a host offset, compressed, zero, or left to the backing file.
 */
final class ClusterMap {
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    static final long COPIED = 1L << 63;
    static final long COMPRESSED = 1L << 62;
    static final long ZERO = 1L;
    static final long DESCRIPTOR_MASK = (1L << 62) - 1;
    static final int SUBCLUSTERS = 32;

    private final String file;
    private final int clusterBits;
    private final long clusterSize;
    private final boolean extendedL2;
    private final int l2Bits;
    private final long[] l1;
    private final L2Cache l2Cache;
    private final Storage image;
    private final Storage data;
    private final boolean externalData;
    private final int subclusterBits;

    ClusterMap(String file, Qcow2Header header, long[] l1, L2Cache l2Cache, Storage image, Storage data) {
        this.file = file;
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.extendedL2 = header.extendedL2();
        this.l2Bits = l2Bits(header);
        this.l1 = l1;
        this.l2Cache = l2Cache;
        this.image = image;
        this.data = data;
        this.externalData = data != image;
        this.subclusterBits = clusterBits - 5;
    }

    /** log2 of the number of entries in an L2 table. */
    static int l2Bits(Qcow2Header header) {
        return header.clusterBits() - (header.extendedL2() ? 4 : 3);
    }

    /** The L1 entries a disk of {@code size} bytes needs. */
    static long l1EntriesFor(Qcow2Header header, long size) {
        int coverageBits = header.clusterBits() + l2Bits(header);
        return (size + (1L << coverageBits) - 1) >>> coverageBits;
    }

    void map(long offset, long length, RunSink sink) throws IOException {
        RunMerger out = new RunMerger(sink);
        long pos = offset;
        long end = offset + length;
        int coverageBits = clusterBits + l2Bits;
        long l2Mask = (1L << l2Bits) - 1;
        while (pos < end) {
            long l1Index = pos >>> coverageBits;
            long spanEnd = Math.min(end, (l1Index + 1) << coverageBits);
            long l2Offset = l1Index < l1.length ? l1[(int) l1Index] & OFFSET_MASK : 0;
            if (l2Offset == 0) {
                out.add(RunKind.BACKING, pos, spanEnd - pos);
                pos = spanEnd;
                continue;
            }
            long[] l2 = l2Cache.get(l2Offset, pos);
            int index = (int) ((pos >>> clusterBits) & l2Mask);
            while (pos < spanEnd) {
                long clusterStart = pos & -clusterSize;
                long clusterEnd = Math.min(spanEnd, clusterStart + clusterSize);
                if (extendedL2) {
                    mapExtended(l2[2 * index], l2[2 * index + 1], pos, clusterStart, clusterEnd, out);
                } else {
                    mapStandard(l2[index], pos, clusterStart, clusterEnd, out);
                }
                pos = clusterEnd;
                index++;
            }
        }
        out.flush();
    }

    private void mapStandard(long entry, long pos, long clusterStart, long clusterEnd, RunMerger out)
            throws IOException {
        if ((entry & COMPRESSED) != 0) {
            mapCompressed(entry, pos, clusterEnd, out);
            return;
        }
        if ((entry & ZERO) != 0) {
            out.add(RunKind.ZERO, pos, clusterEnd - pos);
            return;
        }
        long host = entry & OFFSET_MASK;
        if (host == 0 && !(externalData && (entry & COPIED) != 0)) {
            out.add(RunKind.BACKING, pos, clusterEnd - pos);
            return;
        }
        checkAligned(host, clusterStart);
        out.add(RunKind.DATA, pos, clusterEnd - pos, data, host + (pos - clusterStart));
    }

    private void mapExtended(long entry, long bitmap, long pos, long clusterStart, long clusterEnd,
            RunMerger out) throws IOException {
        if ((entry & COMPRESSED) != 0) {
            mapCompressed(entry, pos, clusterEnd, out);
            return;
        }
        long host = entry & OFFSET_MASK;
        boolean hasHost = host != 0 || (externalData && (entry & COPIED) != 0);
        while (pos < clusterEnd) {
            int sub = (int) ((pos - clusterStart) >>> subclusterBits);
            long subEnd = Math.min(clusterEnd, clusterStart + ((long) (sub + 1) << subclusterBits));
            boolean allocated = (bitmap & (1L << sub)) != 0;
            boolean zero = (bitmap & (1L << (sub + SUBCLUSTERS))) != 0;
            if (allocated && zero) {
                throw new ImageException(file, "subcluster at virtual offset " + pos
                        + " is marked both allocated and zero");
            }
            if (allocated) {
                if (!hasHost) {
                    throw new ImageException(file, "subcluster at virtual offset " + pos
                            + " is marked allocated in a cluster without a host offset");
                }
                checkAligned(host, clusterStart);
                out.add(RunKind.DATA, pos, subEnd - pos, data, host + (pos - clusterStart));
            } else {
                out.add(zero ? RunKind.ZERO : RunKind.BACKING, pos, subEnd - pos);
            }
            pos = subEnd;
        }
    }

    private void mapCompressed(long entry, long pos, long clusterEnd, RunMerger out) throws IOException {
        if (externalData) {
            throw new ImageException(file, "compressed cluster at virtual offset " + pos
                    + " in an image with an external data file");
        }
        out.add(RunKind.COMPRESSED, pos, clusterEnd - pos, image, entry & DESCRIPTOR_MASK);
    }

    private void checkAligned(long host, long clusterStart) throws ImageException {
        if ((host & (clusterSize - 1)) != 0) {
            throw new ImageException(file, "cluster at virtual offset " + clusterStart
                    + " has an unaligned host offset " + host);
        }
    }
}
