package org.vdmount.mounter.attach;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.partition.Partition;
import org.vdmount.formats.partition.PartitionTable;
import org.vdmount.mounter.transport.DiskPart;

/**
 * The partitions a transport exposes besides the whole disk, from the partition layer: every
 * partition but MBR extended containers, which hold logical partitions rather than data.
 */
public final class PartitionFiles {
    private PartitionFiles() {
    }

    public static List<DiskPart> of(VirtualDisk disk) throws IOException {
        List<DiskPart> parts = new ArrayList<>();
        for (Partition p : PartitionTable.read(disk).partitions()) {
            if (p.extended() || p.size() == 0) {
                continue;
            }
            String description = p.typeName() != null ? p.typeName() : "type " + p.typeCode();
            if (p.name() != null && !p.name().isEmpty()) {
                description += " \"" + p.name() + "\"";
            }
            parts.add(new DiskPart("p" + p.number(), p.slice(disk), description));
        }
        return parts;
    }
}
