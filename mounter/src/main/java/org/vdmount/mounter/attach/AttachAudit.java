package org.vdmount.mounter.attach;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.ImageFiles;
import org.vdmount.mounter.gateway.IoCounts;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * An attachment's two records, both written by its server: "attach" once its devices exist, and
 * "end" when it stops serving, whatever stopped it ('vdmount detach' or umount, a signal, Ctrl-C in
 * the foreground), with the bytes read and written through it.
 *
 * <p>Why the server writes the end record: only it has the counts, since every request of every
 * transport passes through its {@link org.vdmount.mounter.gateway.RequestGateway}s, while
 * 'vdmount detach' runs in another process. That command writes a "detach" record of its own (who
 * asked, for which attachment); the two share the attachment's id. A server killed with SIGKILL
 * writes no end record: the detach record that clears up after it still shows the attachment went.
 */
final class AttachAudit {
    private final AuditTrail trail;
    private final AttachOptions options;
    private final String transport;
    private final List<java.nio.file.Path> files;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile int id = -1;
    private volatile List<AttachedDevice> devices = List.of();

    AttachAudit(AuditTrail trail, AttachOptions options, String transport, VirtualDisk disk) {
        this.trail = trail;
        this.options = options;
        this.transport = transport;
        // The paths now; each record describes them afresh, the end record after the disk is
        // closed (so an overlay's last writes are in its size and digest).
        this.files = ImageFiles.paths(disk);
    }

    /** Records the attachment; with --audit-required a record that cannot be written throws (and the attach is undone). */
    void attached(int attachmentId, List<AttachedDevice> made) {
        this.id = attachmentId;
        this.devices = List.copyOf(made);
        trail.append(common(AuditEntry.of("attach")));
    }

    /**
     * Records the end of serving, once, with the byte counts; never throws (the devices are gone
     * already, and nothing is left to refuse). Skipped when the attach itself was never recorded.
     */
    void ended(String how) {
        if (id < 0 || !ended.compareAndSet(false, true)) {
            return;
        }
        IoCounts counts = IoCounts.process();
        try {
            // Said in the server's log: the launcher that showed the user our warnings is gone.
            trail.warningsTo(org.vdmount.mounter.util.Log::warn).append(common(AuditEntry.of("end")).put("how", how)
                    .put("bytes-read", counts.bytesRead()).put("bytes-written", counts.bytesWritten()));
        } catch (RuntimeException e) {
            org.vdmount.mounter.util.Log.warn(e.getMessage());
        }
    }

    private AuditEntry common(AuditEntry entry) {
        return entry.put("attachment", id)
                .put("images", ImageFiles.describe(files))
                .put("mode", mode(options))
                .put("overlay", options.overlay() == null ? null : options.overlay().toString())
                .put("transport", transport)
                .put("devices", devices(devices))
                .put("server-pid", ProcessHandle.current().pid());
    }

    /** "read-only", "overlay" or "read-write", as the audit trail names modes. */
    static String mode(AttachOptions options) {
        return options.overlay() != null ? "overlay" : options.readWrite() ? "read-write" : "read-only";
    }

    static List<Map<String, Object>> devices(List<AttachedDevice> devices) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AttachedDevice d : devices) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("path", d.path());
            m.put("size", d.size());
            out.add(m);
        }
        return out;
    }
}
