package org.vdmount.mounter.attach;

import java.io.IOException;
import java.util.List;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.transport.DiskPart;

/**
 * The partitions a transport should expose besides the whole disk. The one place to wire the
 * partition layer once merged:
 * {@code PartitionTable.read(disk).partitions()} mapped to
 * {@code new DiskPart("p" + p.number(), p.slice(disk), p.typeName())}, skipping extended containers.
 */
public final class PartitionFiles {
    private PartitionFiles() {
    }

    public static List<DiskPart> of(VirtualDisk disk) throws IOException {
        return MbrPartitions.read(disk);
    }
}
