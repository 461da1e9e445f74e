package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.ImageFiles;
import org.vdmount.mounter.util.UserError;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.system.MountTable;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.Transports;

/** Takes an attachment down from its record: devices, server, record; the server may already be dead. */
public final class Detacher {
    private Detacher() {
    }

    /**
     * Detaches, then appends a "detach" record to {@code trail} naming the attachment, who asked and
     * how. Its server appends the "end" record with the byte counts as it stops (see AttachAudit),
     * which this waits for, so that one comes first.
     */
    public static void detach(RunDirectory run, AttachmentRecord record, boolean force, AuditTrail trail)
            throws IOException {
        detach(run, record, force);
        AuditEntry entry = AuditEntry.of("detach").put("attachment", record.id());
        if (record.starting()) {
            entry.put("stale", true); // its server died while attaching: only leftovers were removed
        } else {
            entry.put("images", List.of(ImageFiles.describe(Path.of(record.image()))))
                    .put("mode", record.overlay() != null ? "overlay" : record.mode())
                    .put("overlay", record.overlay() == null ? null : record.overlay().toString())
                    .put("transport", record.transport())
                    .put("devices", AttachAudit.devices(record.devices()));
        }
        trail.append(entry.put("server-pid", record.pid()).put("force", force));
    }

    private static void detach(RunDirectory run, AttachmentRecord record, boolean force) throws IOException {
        if (record.starting()) {
            if (record.serverAlive()) {
                throw new UserError("attachment " + record.id() + " is still starting; try again in a moment");
            }
            // Its server died while attaching (kill -9): whatever it had made is found from the id.
            Transports.byName(record.transport()).ifPresent(t ->
                    t.abandon(new AttachRequest(record.id(), run.workDir(record.id()), List.of(), 1, -1, true)));
            run.remove(record.id());
            return;
        }
        for (AttachedDevice d : record.devices()) {
            List<String> mounts = MountTable.mountPointsOf(d.path());
            if (mounts.isEmpty()) {
                continue;
            }
            if (!force) {
                throw new UserError(d.path() + " is mounted on " + String.join(", ", mounts)
                        + "; unmount it first (or detach with --force, which unmounts it lazily)");
            }
            for (String m : mounts) {
                Commands.run("umount", "--lazy", m);
            }
        }
        Transport transport = Transports.byName(record.transport()).orElseThrow(() -> new UserError(
                "attachment " + record.id() + " uses transport '" + record.transport() + "', which this build lacks"));
        transport.detach(record.devices(), record.state(), force);
        stopServer(record);
        run.remove(record.id());
    }

    /** The server ends by itself once its devices are gone; one that does not is asked, then told. */
    private static void stopServer(AttachmentRecord record) {
        Optional<ProcessHandle> server = ProcessHandle.of(record.pid()).filter(AttachmentRecord::isOurServer);
        if (server.isEmpty()) {
            return;
        }
        ProcessHandle p = server.get();
        if (waitExit(p, 10)) {
            return;
        }
        p.destroy();
        if (!waitExit(p, 5)) {
            p.destroyForcibly();
            waitExit(p, 5);
        }
    }

    private static boolean waitExit(ProcessHandle p, int seconds) {
        try {
            p.onExit().get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return !p.isAlive();
        }
    }
}
