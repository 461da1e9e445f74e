package org.vdmount.mounter.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.vdmount.mounter.attach.AttachmentRecord;
import org.vdmount.mounter.attach.Detacher;
import org.vdmount.mounter.attach.RunDirectory;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount detach DEVICE|IMAGE|ID|--all}: devices removed, server stopped. */
@Command(name = "detach",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Remove the devices of an attachment and stop its server.",
            "Refuses while one of its devices is mounted, unless --force. An IMAGE attached several times (each with an overlay of its own) has every attachment detached, each named on a line of its own."})
public final class DetachCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "DEVICE|IMAGE|ID",
            description = "Any device of the attachment (e.g. /dev/loop3), its image file, or its id from 'vdmount list'.")
    String target;

    @Option(names = "--all", description = "Detach every attachment.")
    boolean all;

    @Option(names = "--force", description = "Detach even while mounted or busy: file systems on the devices are unmounted lazily.")
    boolean force;

    @Mixin
    AuditOptions audit;

    @Override
    public Integer call() throws Exception {
        AuditTrail trail = audit.trail();
        if (all == (target != null)) {
            throw new UsageError("detach needs a DEVICE, IMAGE or ID, or --all (not both)");
        }
        RunDirectory run = RunDirectory.standard();
        List<AttachmentRecord> records = all ? run.list() : find(run, target);
        List<String> failures = new ArrayList<>();
        for (AttachmentRecord r : records) {
            try {
                Detacher.detach(run, r, force, trail);
                if (records.size() > 1 && !all) {
                    // The image had several attachments: say which went, so none goes unnoticed.
                    System.out.println("detached attachment " + r.id() + " (" + r.mode() + "): "
                            + r.devices().stream().map(AttachedDevice::path).collect(Collectors.joining(", ")));
                }
            } catch (UserError | IOException e) {
                if (records.size() == 1) {
                    throw e;
                }
                failures.add("attachment " + r.id() + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new UserError(String.join("; ", failures));
        }
        return 0;
    }

    /** The attachment with this id or device, or every attachment of this image. */
    static List<AttachmentRecord> find(RunDirectory run, String target) throws IOException {
        List<AttachmentRecord> records = run.list();
        if (target.matches("\\d{1,6}")) {
            int id = Integer.parseInt(target);
            for (AttachmentRecord r : records) {
                if (r.id() == id) {
                    return List.of(r);
                }
            }
        }
        for (AttachmentRecord r : records) {
            if (r.devices().stream().anyMatch(d -> d.path().equals(target))) {
                return List.of(r);
            }
        }
        Path file = Path.of(target);
        List<AttachmentRecord> ofImage = new ArrayList<>();
        if (Files.exists(file)) {
            Path image = file.toRealPath();
            for (AttachmentRecord r : records) {
                if (!r.starting() && Files.exists(Path.of(r.image())) && Path.of(r.image()).toRealPath().equals(image)) {
                    ofImage.add(r);
                }
            }
        }
        if (ofImage.isEmpty()) {
            throw new UserError(target + ": not attached (see 'vdmount list')");
        }
        return ofImage;
    }
}
