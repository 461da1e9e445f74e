package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RunMerger;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * QEMU copy-on-write images, versions 2 and 3, read, and written in place when asked.
 *
 * <p>Follows qemu's {@code docs/interop/qcow2.txt} (header, header extensions, L1/L2 and extended L2
 * entries, compressed cluster descriptors, snapshot table), the zstd frame format of RFC 8878 for
 * delimiting frames, and qemu's own limits (cluster_bits 9 to 21, a 32 MiB L1 table, 65536
 * snapshots, a 1023-byte backing file name) for refusing hostile headers.
 *
 * <p>Layout of the package: {@link Qcow2Header} and {@link HeaderExtensions} parse and check the
 * first cluster, {@link SnapshotTable} the snapshot directory, {@link Qcow2Opener} assembles a disk,
 * {@link ClusterMap} (with {@link L2Cache} and {@link RunMerger}) maps virtual ranges to runs, and
 * {@link CompressedClusters} finds compressed clusters for the shared
 * {@link org.vdmount.formats.compress.CompressedBlocks} reader.
 *
 * <p>Writing: {@link WriteRefusals} says which images are not written; {@link Qcow2Writer} holds
 * the lock and makes metadata durable in qemu's order; {@link GuestWriter} splits writes and zeroing
 * into clusters, written through standard L2 entries by {@link ClusterWriter} and through extended
 * ones (subclusters) by {@link SubclusterWriter}; {@link HostClusters} places guest clusters (new
 * clusters in the image, or at their guest offset in an external data file); {@link L2Updater}
 * changes L1 and L2 tables, {@link Refcounts} (with {@link RefcountEntries}) the refcounts.
 */
public final class Qcow2Format implements ImageFormat {

    @Override
    public String name() {
        return "qcow2";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        // Version 1 shares the magic: it is qemu's older "qcow" format, refused by name elsewhere.
        return head.remaining() >= 4 && head.getInt(head.position()) == Qcow2Header.MAGIC
                && (head.remaining() < 8 || head.getInt(head.position() + 4) != 1);
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return Qcow2Opener.open(storage, context);
    }

    @Override
    public boolean hasSnapshots() {
        return true;
    }
}
