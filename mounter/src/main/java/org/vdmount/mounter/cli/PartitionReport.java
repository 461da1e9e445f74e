package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.partition.Partition;
import org.vdmount.formats.partition.PartitionScheme;
import org.vdmount.formats.partition.PartitionTable;
import org.vdmount.mounter.util.Columns;
import org.vdmount.mounter.util.Sizes;

/** The partition table part of {@code vdmount info}, like mmls: one row per partition. */
final class PartitionReport {
    private final PartitionTable table;

    private PartitionReport(PartitionTable table) {
        this.table = table;
    }

    static PartitionReport of(VirtualDisk disk) throws IOException {
        return new PartitionReport(PartitionTable.read(disk));
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("partition-table", table.scheme() == PartitionScheme.NONE ? null : table.scheme().name().toLowerCase());
        if (table.diskGuid() != null) {
            m.put("disk-guid", table.diskGuid());
        }
        List<Map<String, Object>> parts = new ArrayList<>();
        for (Partition p : table.partitions()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("number", p.number());
            pm.put("type", p.typeCode());
            pm.put("type-name", p.typeName());
            pm.put("start", p.start());
            pm.put("size", p.size());
            pm.put("name", p.name());
            pm.put("uuid", p.uuid());
            pm.put("bootable", p.bootable());
            pm.put("extended", p.extended());
            parts.add(pm);
        }
        m.put("partitions", parts);
        return m;
    }

    List<String> warnings() {
        return table.warnings();
    }

    void printText(PrintStream out) {
        if (table.scheme() == PartitionScheme.NONE) {
            out.println(Columns.left("partitions:", 16) + " none (no MBR or GPT)");
            return;
        }
        String scheme = table.scheme().name() + (table.diskGuid() == null ? "" : ", disk GUID " + table.diskGuid());
        out.println(Columns.left("partition table:", 16) + " " + scheme);
        out.println(row("#", "START", "END", "SIZE", "TYPE", "NAME"));
        for (Partition p : table.partitions()) {
            String type = p.typeName() != null ? p.typeName() : p.typeCode();
            if (p.bootable()) {
                type += " *";
            }
            out.println(row(p.number(), p.start(), p.end() - 1, Sizes.human(p.size()), type,
                    p.name() == null ? "" : p.name()));
        }
        if (table.partitions().stream().anyMatch(Partition::bootable)) {
            out.println("  (* bootable: the MBR's active flag)");
        }
    }

    /** One line of the partition table: number, start, end, size, type, name. */
    private static String row(Object number, Object start, Object end, String size, String type, String name) {
        return "  " + Columns.left(number, 3) + " " + Columns.right(start, 14) + " " + Columns.right(end, 14) + " "
                + Columns.right(size, 10) + "  " + Columns.left(type, 24) + " " + name;
    }
}
