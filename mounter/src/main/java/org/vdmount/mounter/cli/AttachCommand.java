package org.vdmount.mounter.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.vdmount.formats.ImageException;
import org.vdmount.mounter.attach.AttachOptions;
import org.vdmount.mounter.attach.AttachServer;
import org.vdmount.mounter.attach.ServerLauncher;
import org.vdmount.mounter.attach.ServerOutput;
import org.vdmount.mounter.audit.Invocation;
import org.vdmount.mounter.transport.Transports;
import org.vdmount.mounter.util.UsageError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount attach IMAGE} (also plain {@code vdmount IMAGE}): the image as block devices, served in the background. */
@Command(name = "attach",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Make IMAGE and its partitions block devices and print one line per device.",
            "",
            "Returns once the devices exist, leaving a server process in the background ('vdmount list' shows it, 'vdmount detach' ends it). Also spelled: vdmount IMAGE [OPTIONS].",
            "",
            "The image is opened read-only unless --rw is given; with --overlay FILE the devices are writable but every write goes to FILE and the image is still opened read-only. FILE is a standard qcow2 file whose backing file is the image (created when missing or empty; qemu-img reads it too); re-attaching with the same FILE shows the earlier writes, and 'vdmount commit FILE' merges them into the image.",
            "",
            "An image that is attached already is not attached again: the existing devices are named instead. A second attachment of the same image is allowed when each writes to an overlay file of its own.",
            "",
            "Transports, tried in this order by --transport auto, which takes the first one usable here and names it on the disk's line: abuse (the abuse kernel module, when /dev/abctl exists: /dev/abuseN, partitions /dev/abuseNpM from the kernel's own scan), ublk (the kernel's ublk driver, Linux 6.5 or newer, loaded with 'modprobe ublk_drv' if this kernel has it and it is not loaded yet: /dev/ublkbN, partitions /dev/ublkbNpM), nbd (the kernel's nbd driver, loaded with 'modprobe nbd max_part=16' if this kernel has it and it is not loaded yet: /dev/nbdN, partitions /dev/nbdNpM), fuse (a FUSE file per disk and partition under /run/vdmount/ID/, bound to loop devices: works without any module). --transport NAME insists on one and says why when it cannot be used.",
            "",
            "If the server of an abuse or ublk device is killed, attaching the same image again takes the device over, and I/O that was waiting completes. If the server of an nbd device is killed, the device's I/O fails with an I/O error at once (nothing hangs) and 'vdmount detach' clears it."},
        footer = {"", "Examples:",
            "  vdmount disk.vmdk",
            "  vdmount attach --overlay changes.qcow2 disk.qcow2",
            "  vdmount attach --no-partscan evidence.vmdk && kpartx -r -a /dev/abuse0"})
public final class AttachCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The disk image (raw, qcow2...; the format is detected).")
    Path image;

    @Mixin
    TransportOption transport;

    @Mixin
    WriteOptions write;

    @Mixin
    SourceOptions source;

    @Option(names = "--index", paramLabel = "N", defaultValue = "-1",
            description = "Ask for device number N (/dev/abuseN, /dev/ublkbN, /dev/nbdN); default: the first free one.")
    int index;

    @Option(names = "--no-partscan", description = "Only the whole disk; no device per partition (over ublk and nbd, the partitions the kernel finds are removed again).")
    boolean noPartscan;

    @Option(names = "--threads", paramLabel = "T",
            description = "Threads serving requests: queues over ublk (at most one per CPU), connections over nbd (default: one per two CPUs, from 1 to 4).")
    int threads = AttachOptions.defaultThreads();

    @Option(names = "--foreground", description = "Serve in this process until stopped (Ctrl-C, or 'vdmount detach' elsewhere): for systemd units and debugging.")
    boolean foreground;

    @Mixin
    AuditOptions audit;

    /** Internal: the user's command line, for the background server's audit records (see {@link Invocation#encode}). */
    static final String AUDIT_COMMAND = "--audit-command";

    @Option(names = AUDIT_COMMAND, hidden = true, paramLabel = "ENCODED")
    String auditCommand;

    @Option(names = "--server", hidden = true, description = "Internal: the background server, talking to its launcher over stdout.")
    boolean server;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 64) {
            throw new UsageError("--threads must be between 1 and 64, not " + threads);
        }
        if (index < -1) {
            throw new UsageError("--index must be 0 or more");
        }
        Path overlayFile = write.check(source);
        source.openOptions(write.readWrite); // its own checks, before anything is launched
        if (!Files.exists(image)) {
            throw new ImageException(image.toString(), "no such file");
        }
        AttachOptions options = new AttachOptions(image, transport.name, source.snapshot, source.disk, !noPartscan,
                threads, write.readWrite, overlayFile, index, source.format, source.forceShare);
        if (server) {
            if (auditCommand != null) {
                Invocation.arguments(Invocation.decode(auditCommand));
            }
            return ServerMain.run(options, audit);
        }
        audit.trail().checkWritable(); // and the server checks again, but a refusal is clearer from here
        // Checked here too, so a wrong --transport is reported before anything is launched.
        String chosen = Transports.choose(transport.name).name();
        if (foreground) {
            ServerOutput human = ServerOutput.human(System.out, System.err);
            AttachServer.serve(options, human, false, audit.trail(human::warn));
            return 0;
        }
        ServerLauncher.launch(serverArgs(audit, options, chosen), System.out, System.err);
        return 0;
    }

    /** What a background server is started with: the audit settings, then the attach itself. */
    static List<String> serverArgs(AuditOptions audit, AttachOptions options, String transport) {
        List<String> args = new ArrayList<>(audit.serverArgs());
        args.addAll(options.serverArgs(transport));
        return args;
    }
}
