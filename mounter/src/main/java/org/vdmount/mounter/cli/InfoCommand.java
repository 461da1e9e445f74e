package org.vdmount.mounter.cli;

import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.SnapshotInfo;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.util.Columns;
import org.vdmount.mounter.util.Json;
import org.vdmount.mounter.util.Sizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vdmount info}: what qemu-img info and mmls tell, in one report. */
@Command(name = "info",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        description = {
            "Describe an image: format, sizes, backing chain, snapshots, partitions.",
            "",
            "Shows the format and subformat, virtual size, size on disk (the space the files take, as du counts it), cluster or block size, compression, the backing or parent chain with each member's format, internal snapshots, what the format records (creator, UUIDs, geometry...), and the partition table of the virtual disk (like qemu-img info and mmls together). With --json, numbers and flags are JSON numbers and booleans.",
            "",
            "The image is opened read-only; nothing is written."},
        footer = {"", "Examples:", "  vdmount info disk.qcow2",
            "  vdmount info --json disk.vmdk | jq .partitions      (jq: apt-get install jq)"})
public final class InfoCommand implements Callable<Integer> {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    @Mixin
    ImageOptions image;

    @Option(names = "--json", description = "Print the report as JSON, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (VirtualDisk disk = image.openReadOnly()) {
            PrintStream out = System.out;
            AllocatedSizes allocated = new AllocatedSizes();
            PartitionReport partitions = PartitionReport.of(disk);
            if (json) {
                Map<String, Object> report = layer(disk.info(), allocated);
                report.put("backing-chain", chain(disk, allocated));
                report.putAll(partitions.toJson());
                out.println(Json.write(report));
            } else {
                printText(out, disk, partitions, allocated);
            }
            partitions.warnings().forEach(w -> System.err.println("vdmount: warning: " + w));
        }
        return 0;
    }

    private static List<Map<String, Object>> chain(VirtualDisk disk, AllocatedSizes allocated) {
        List<Map<String, Object>> members = new ArrayList<>();
        Optional<VirtualDisk> next = disk.backing();
        while (next.isPresent()) {
            members.add(layer(next.get().info(), allocated));
            next = next.get().backing();
        }
        return members;
    }

    private static Map<String, Object> layer(DiskInfo info, AllocatedSizes sizes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("filename", info.name());
        m.put("format", info.format());
        m.put("subformat", info.subformat());
        m.put("virtual-size", info.virtualSize());
        m.put("file-size", info.fileSize() < 0 ? null : info.fileSize());
        long allocated = sizes.total(info.files());
        m.put("size-on-disk", allocated < 0 ? null : allocated);
        m.put("cluster-size", info.clusterSize() == 0 ? null : info.clusterSize());
        m.put("compression", info.compression());
        m.put("files", info.files());
        m.put("details", info.details());
        List<Map<String, Object>> snaps = new ArrayList<>();
        for (SnapshotInfo s : info.snapshots()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("id", s.id());
            sm.put("name", s.name());
            sm.put("virtual-size", s.virtualSize());
            sm.put("vm-state-size", s.vmStateSize());
            sm.put("date", s.created() == null ? null : s.created().toString());
            sm.put("vm-clock-nanos", s.vmClockNanos());
            snaps.add(sm);
        }
        m.put("snapshots", snaps);
        return m;
    }

    private static void printText(PrintStream out, VirtualDisk disk, PartitionReport partitions,
            AllocatedSizes allocated) {
        printLayer(out, disk.info(), "", allocated);
        Optional<VirtualDisk> next = disk.backing();
        if (next.isPresent()) {
            out.println("backing chain:");
            int depth = 1;
            while (next.isPresent()) {
                DiskInfo info = next.get().info();
                out.println("  " + depth++ + ". " + info.name() + " (" + formatName(info) + ")");
                next = next.get().backing();
            }
        }
        partitions.printText(out);
    }

    private static void printLayer(PrintStream out, DiskInfo info, String indent, AllocatedSizes sizes) {
        row(out, indent, "image", info.name());
        row(out, indent, "format", formatName(info));
        row(out, indent, "virtual size", Sizes.human(info.virtualSize()) + " (" + info.virtualSize() + " bytes)");
        long allocated = sizes.total(info.files());
        if (allocated >= 0) {
            row(out, indent, "size on disk", Sizes.human(allocated) + " (" + allocated + " bytes allocated"
                    + (info.fileSize() >= 0 ? "; the files are " + info.fileSize() + " bytes long)" : ")"));
        } else if (info.fileSize() >= 0) {
            row(out, indent, "file size", Sizes.human(info.fileSize()) + " (" + info.fileSize() + " bytes)");
        }
        if (info.clusterSize() > 0) {
            row(out, indent, "cluster size", String.valueOf(info.clusterSize()));
        }
        if (info.compression() != null) {
            row(out, indent, "compression", info.compression());
        }
        if (info.files().size() > 1) {
            row(out, indent, "files", String.join(", ", info.files()));
        }
        info.details().forEach((k, v) -> row(out, indent, k, String.valueOf(v)));
        if (!info.snapshots().isEmpty()) {
            out.println(indent + "snapshots:");
            out.println(snapshotRow(indent, "ID", "NAME", "VM SIZE", "DATE", "VM CLOCK"));
            for (SnapshotInfo s : info.snapshots()) {
                out.println(snapshotRow(indent, s.id(), s.name(), Sizes.human(s.vmStateSize()),
                        s.created() == null ? "" : DATE.format(s.created()), clock(s.vmClockNanos())));
            }
        }
    }

    private static String clock(long nanos) {
        long ms = nanos / 1_000_000;
        return Columns.zeros(ms / 3_600_000, 2) + ":" + Columns.zeros(ms / 60_000 % 60, 2) + ":"
                + Columns.zeros(ms / 1000 % 60, 2) + "." + Columns.zeros(ms % 1000, 3);
    }

    private static String snapshotRow(String indent, String id, String name, String size, String date, String clock) {
        return indent + "  " + Columns.left(id, 4) + " " + Columns.left(name, 20) + " " + Columns.right(size, 10) + " "
                + Columns.left(date, 19) + " " + clock;
    }

    static String formatName(DiskInfo info) {
        return info.subformat() == null ? info.format() : info.format() + " " + info.subformat();
    }

    private static void row(PrintStream out, String indent, String key, String value) {
        out.println(indent + Columns.left(key + ":", 16) + " " + value);
    }
}
