package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vdmount.formats.ImageException;
import org.vdmount.mounter.attach.AttachOptions;
import org.vdmount.mounter.attach.AttachmentRecord;
import org.vdmount.mounter.attach.Attachments;
import org.vdmount.mounter.attach.Detacher;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.ImageFiles;
import org.vdmount.mounter.attach.RunDirectory;
import org.vdmount.mounter.attach.ServerLauncher;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.Transports;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount mount IMAGE PARTITION DIR}: attach and mount one partition, as vmware-mount does. */
@Command(name = "mount",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Attach IMAGE and mount one of its partitions on DIR.",
            "",
            "Read-only unless --rw or --overlay: the file system is mounted read-only too, so even its journal is not replayed onto the image. 'vdmount umount DIR' unmounts it and detaches the image.",
            "",
            "When the image is attached already in the same mode (by 'vdmount mount' of another partition, or 'vdmount attach'), the partition is mounted from those devices; the image is then detached by the last 'vdmount umount'."},
        footer = {"", "Examples:",
            "  vdmount mount disk.vmdk 1 /mnt",
            "  vdmount mount --overlay changes.qcow2 disk.qcow2 p2 /mnt"})
public final class MountCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The disk image.")
    Path image;

    @Parameters(index = "1", paramLabel = "PARTITION",
            description = "Partition number (1, 2...; 'p1' works too), or 0 for a disk without a partition table.")
    String partition;

    @Parameters(index = "2", paramLabel = "DIR", description = "Where to mount it (an existing directory).")
    Path dir;

    @Mixin
    WriteOptions write;

    @Option(names = {"-t", "--type"}, paramLabel = "FSTYPE", description = "File system type, if mount cannot tell.")
    String type;

    @Option(names = {"-o", "--options"}, paramLabel = "OPTS", description = "More mount options, e.g. noexec,norecovery.")
    String options;

    @Mixin
    TransportOption transport;

    @Mixin
    SourceOptions source;

    @Mixin
    AuditOptions audit;

    @Override
    public Integer call() throws Exception {
        String wanted = partName(partition);
        audit.trail().checkWritable(); // before anything is attached or mounted
        Path overlayFile = write.check(source);
        source.openOptions(write.readWrite);
        boolean writable = write.writable();
        if (!Files.exists(image)) {
            throw new ImageException(image.toString(), "no such file");
        }
        if (!Files.isDirectory(dir)) {
            throw new UserError(dir + ": not a directory");
        }
        AttachOptions attach = new AttachOptions(image, transport.name, source.snapshot, source.disk,
                !wanted.equals("disk"), AttachOptions.defaultThreads(), write.readWrite, overlayFile, -1, source.format,
                source.forceShare);
        RunDirectory run = RunDirectory.standard();
        // Another partition of an image that is attached already: mount it from the same devices.
        Optional<AttachmentRecord> attached = Attachments.sameView(run, image.toAbsolutePath().normalize(), attach);
        AttachmentRecord record;
        if (attached.isPresent()) {
            record = attached.get();
        } else {
            String chosen = Transports.choose(transport.name).name();
            PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
            int id = ServerLauncher.launch(AttachCommand.serverArgs(audit, attach, chosen), quiet, System.err);
            record = run.read(id).orElseThrow(() -> new IOException("attachment " + id + " vanished"));
        }
        try {
            AttachedDevice device = record.devices().stream().filter(d -> d.name().equals(wanted)).findFirst()
                    .orElseThrow(() -> new UsageError(image + ": has no partition " + partition + " (it has: "
                            + String.join(", ", names(record)) + ")"));
            List<String> command = new ArrayList<>(List.of("mount", "-o", mountOptions(writable)));
            if (type != null) {
                command.addAll(List.of("-t", type));
            }
            command.add(device.path());
            command.add(dir.toAbsolutePath().toString());
            try {
                Commands.run(command.toArray(String[]::new));
            } catch (IOException e) {
                throw new UserError("cannot mount " + device.path() + " (" + what(device) + ", "
                        + fileSystem(device.path()) + ") on " + dir + ": " + e.getMessage());
            }
            // Its own line besides the attach's: a mount from an attachment made earlier has no other.
            audit.trail().append(AuditEntry.of("mount").put("attachment", record.id())
                    .put("images", List.of(ImageFiles.describe(image))).put("device", device.path())
                    .put("partition", device.name()).put("mount-point", dir.toAbsolutePath().toString())
                    .put("mount-options", mountOptions(writable)).put("transport", record.transport()));
            System.out.println("mounted " + device.path() + " (" + device.name() + ") of " + image + " on " + dir
                    + (writable ? "" : ", read-only")
                    + (attached.isPresent() ? " (from attachment " + record.id() + ", attached already)" : ""));
        } catch (RuntimeException e) {
            if (attached.isEmpty()) {
                Detacher.detach(run, record, false, audit.trail());
            }
            throw e;
        }
        return 0;
    }

    private static String what(AttachedDevice device) {
        return device.name().equals("disk") ? "the whole disk" : "partition " + device.name().substring(1);
    }

    /** The file system tried, as the user gave it or as blkid recognises it, for the error message. */
    private String fileSystem(String device) {
        if (type != null) {
            return "tried as " + type;
        }
        try {
            String found = Commands.run("blkid", "-o", "value", "-s", "TYPE", device).strip();
            return found.isEmpty() ? "no file system recognised" : "file system " + found;
        } catch (IOException e) {
            return "no file system recognised";
        }
    }

    private String mountOptions(boolean writable) {
        String base = writable ? "rw" : "ro";
        return options == null ? base : base + "," + options;
    }

    private static List<String> names(AttachmentRecord record) {
        return record.devices().stream().map(AttachedDevice::name).filter(n -> !n.equals("disk")).toList();
    }

    /** "1", "p1" and "0" as the attachment names its devices: "p1", "p1", "disk". */
    static String partName(String partition) {
        String p = partition.startsWith("p") ? partition.substring(1) : partition;
        if (!p.matches("\\d{1,3}")) {
            throw new UsageError("PARTITION must be a number such as 1 (or 0 for the whole disk), not '" + partition + "'");
        }
        int n = Integer.parseInt(p);
        return n == 0 ? "disk" : "p" + n;
    }
}
