package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.transport.Transports;

/**
 * The server side of an attachment, whatever the transport: opens the image, has the transport
 * make devices, records the attachment, reports "ready", and serves until detached. On every
 * failure path it takes down what it made, so no device, mount or record outlives a failed attach.
 */
public final class AttachServer {
    private static final Logger LOG = Logger.getLogger(AttachServer.class.getName());
    static final String MODE = "read-only";

    private AttachServer() {
    }

    /** Attaches and blocks until the attachment is detached (from outside, or by stopping this process). */
    public static void serve(AttachOptions options, ServerOutput output) throws IOException, InterruptedException {
        Transport transport = Transports.choose(options.transport());
        Path image = options.image().toAbsolutePath().normalize();
        OpenOptions open = new OpenOptions(options.snapshot(), options.diskNumber(), false);
        RunDirectory run = RunDirectory.standard();
        long pid = ProcessHandle.current().pid();
        try (VirtualDisk disk = Images.open(image, open, output::warn)) {
            if (disk.size() == 0) {
                throw new ImageException(image.toString(), "the disk is empty (0 bytes): nothing to attach");
            }
            List<DiskPart> parts = new ArrayList<>();
            parts.add(new DiskPart("disk", disk,
                    DeviceLines.diskLabel(image.getFileName().toString(), disk.info(), MODE, transport.name())));
            if (options.partscan()) {
                parts.addAll(PartitionFiles.of(disk));
            }
            int id = run.allocate();
            AttachRequest request = new AttachRequest(id, run.workDir(id), parts, options.threads());
            // Stopped while attaching (the launcher gave up, Ctrl-C): undo whatever exists so far.
            Thread abandon = new Thread(() -> {
                transport.abandon(request);
                removeQuietly(run, id);
            }, "vdmount-abandon");
            Runtime.getRuntime().addShutdownHook(abandon);
            TransportSession session = null;
            try {
                run.write(AttachmentRecord.starting(id, pid));
                session = transport.attach(request);
                run.write(new AttachmentRecord(id, image.toString(), transport.name(), MODE, pid,
                        session.devices(), session.state()));
            } catch (IOException | RuntimeException e) {
                if (session != null) {
                    session.close();
                }
                run.remove(id);
                throw e;
            } finally {
                removeHook(abandon);
            }
            serveUntilDetached(id, session, run, output);
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

    private static void serveUntilDetached(int id, TransportSession session, RunDirectory run, ServerOutput output)
            throws InterruptedException, IOException {
        AtomicBoolean over = new AtomicBoolean();
        // SIGTERM / Ctrl-C: take the devices down ourselves. Not once detached from outside: by
        // then the loop numbers and the id may belong to a newer attachment.
        Thread hook = new Thread(() -> {
            if (over.compareAndSet(false, true)) {
                try {
                    session.close();
                    run.remove(id);
                } catch (IOException e) {
                    LOG.warning("stopping attachment " + id + ": " + e.getMessage());
                }
            }
        }, "vdmount-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        output.ready(id, session.devices());
        session.awaitDetached();
        if (over.compareAndSet(false, true)) {
            run.remove(id);
            removeIfEmpty(run.workDir(id));
            removeHook(hook);
        }
    }
}
