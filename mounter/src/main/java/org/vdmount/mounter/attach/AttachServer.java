package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.transport.Transports;
import org.vdmount.mounter.util.Log;

/**
 * The server side of an attachment, whatever the transport: opens the image, has the transport
 * make devices, records the attachment, reports "ready", and serves until detached. On every
 * failure path it takes down what it made, so no device, mount or record outlives a failed attach.
 */
public final class AttachServer {

    private AttachServer() {
    }

    /**
     * Attaches and blocks until the attachment is detached (from outside, or by stopping this
     * process). With {@code ownLog} (a background server), what the server says while serving goes
     * to the attachment's log file from the moment it has an id.
     */
    public static void serve(AttachOptions options, ServerOutput output, boolean ownLog, AuditTrail trail)
            throws IOException, InterruptedException {
        Transport transport = Transports.choose(options.transport());
        Path image = options.image().toAbsolutePath().normalize();
        RunDirectory run = RunDirectory.standard();
        long pid = ProcessHandle.current().pid();
        String mode = options.mode();
        Attachments.refuseClash(run, image, options);
        trail.checkWritable();
        AttachAudit audit;
        try (VirtualDisk disk = WritableDisks.open(image, options, output::warn)) {
            audit = new AttachAudit(trail, options, transport.name(), disk);
            if (disk.size() == 0) {
                throw new ImageException(image.toString(), "the disk is empty (0 bytes): nothing to attach");
            }
            List<DiskPart> parts = new ArrayList<>();
            parts.add(new DiskPart("disk", disk,
                    DeviceLines.diskLabel(image.getFileName().toString(), imageInfo(disk, options), mode,
                            transport.name())));
            if (options.partscan()) {
                parts.addAll(PartitionFiles.of(disk));
            }
            int id = run.allocate();
            String log = "";
            if (ownLog) {
                AttachmentLog.redirectStandardError(run.logFile(id));
                log = run.logFile(id).toString();
            }
            AttachRequest request = new AttachRequest(id, run.workDir(id), parts, options.threads(), options.index(),
                    options.partscan());
            Stopper stopper = new Stopper(transport, request, run, audit);
            Runtime.getRuntime().addShutdownHook(stopper);
            TransportSession session;
            try {
                run.write(AttachmentRecord.starting(id, pid, transport.name()));
                session = stopper.attach();
                run.write(new AttachmentRecord(id, image.toString(), transport.name(), mode, pid, log,
                        session.devices(), session.state()));
                StaleRecords.forget(run, id, session.devices());
                audit.attached(id, session.devices()); // inside: a required record that fails undoes the attach
            } catch (IOException | RuntimeException e) {
                if (stopper.claim()) {
                    stopper.cleanUp();
                    removeHook(stopper);
                }
                throw e;
            }
            session.warnings().forEach(output::warn);
            output.ready(id, session.devices());
            session.awaitDetached();
            // Detached from outside: the devices are gone, and their numbers and our id may soon
            // belong to a newer attachment, so the stopper must not touch them any more.
            if (stopper.claim()) {
                removeQuietly(run, id);
                removeIfEmpty(run.workDir(id));
                removeHook(stopper);
            }
        }
        // Once the disk is closed: an overlay's last writes are in, and nothing is left to lose
        // should 'vdmount detach' tire of waiting for this process to end.
        audit.ended("detached");
    }

    /** The image's own description: under an overlay, that of the image, not of the overlay file. */
    private static org.vdmount.formats.DiskInfo imageInfo(VirtualDisk disk, AttachOptions options) {
        return options.overlay() != null ? disk.backing().orElse(disk).info() : disk.info();
    }

    /**
     * Takes the attachment down when the process is stopped (SIGTERM, Ctrl-C, the launcher giving
     * up) at any point: while attaching it first lets the transport finish, so it never races a
     * half-made attachment, then undoes whatever exists.
     */
    private static final class Stopper extends Thread {
        private static final long ATTACH_GRACE_SECONDS = 60;
        private final Transport transport;
        private final AttachRequest request;
        private final RunDirectory run;
        private final AttachAudit audit;
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final CountDownLatch attached = new CountDownLatch(1);
        private volatile TransportSession session;

        Stopper(Transport transport, AttachRequest request, RunDirectory run, AttachAudit audit) {
            super("vdmount-stop");
            this.transport = transport;
            this.request = request;
            this.run = run;
            this.audit = audit;
        }

        TransportSession attach() throws IOException {
            try {
                session = transport.attach(request);
                return session;
            } finally {
                attached.countDown();
            }
        }

        /** Whoever claims first (the stopper, a failed attach, or the end of serving) cleans up. */
        boolean claim() {
            return claimed.compareAndSet(false, true);
        }

        @Override
        public void run() {
            if (!claim()) {
                return;
            }
            try {
                attached.await(ATTACH_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // clean up with what there is
            }
            cleanUp();
            audit.ended("stopped by a signal");
        }

        void cleanUp() {
            TransportSession s = session;
            try {
                if (s != null) {
                    s.close();
                } else {
                    transport.abandon(request);
                }
            } catch (IOException | RuntimeException e) {
                Log.warn("stopping attachment " + request.id() + ": " + e.getMessage());
            }
            removeQuietly(run, request.id());
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down already: the hook runs
        }
    }

    private static void removeQuietly(RunDirectory run, int id) {
        try {
            run.remove(id);
        } catch (IOException e) {
            // best effort while the process ends
        }
    }

    private static void removeIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty, or still a mount point: leave it to detach
        }
    }
}
