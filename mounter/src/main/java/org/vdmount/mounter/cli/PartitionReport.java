package org.vdmount.mounter.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.VirtualDisk;

/** The partition table part of {@code vdmount info}. Filled in once the partition layer lands. */
final class PartitionReport {
    private PartitionReport() {
    }

    static PartitionReport of(VirtualDisk disk) {
        return new PartitionReport();
    }

    Map<String, Object> toJson() {
        return Map.of();
    }

    List<String> warnings() {
        return List.of();
    }

    void printText(PrintStream out) {
    }
}
