package org.vdmount.mounter.transport.ublk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.BackingText;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.PartitionDevices;
import org.vdmount.mounter.transport.ServerThreads;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.transport.Waits;
import org.vdmount.mounter.util.Log;

/**
 * The kernel's own ublk driver (Linux 6.0 and newer; this transport needs 6.5): /dev/ublkbN is the
 * disk, the kernel's partition scan makes /dev/ublkbNpM, and one thread per queue serves the
 * requests through io_uring ({@link UblkQueue}). No module of ours is needed.
 *
 * <p>Devices are made with UBLK_F_USER_RECOVERY (and _REISSUE) where the driver offers them: when
 * the server dies the driver keeps the device and its waiting I/O, and a new server for the same
 * image takes it over, finding it by the fingerprint the device keeps ({@link UblkDevices}).
 *
 * <p>References: Linux include/uapi/linux/ublk_cmd.h, drivers/block/ublk_drv.c,
 * Documentation/block/ublk.rst.
 */
public final class UblkTransport implements Transport {
    /**
     * Requests each queue can have in flight: each has a buffer of {@link #MAX_IO_BYTES} (touched,
     * and so locked in memory, only once a request of that size uses it), so a queue holds at most
     * 32 MiB; deeper than the 16 requests at which a 2-CPU machine saturates.
     */
    static final int QUEUE_DEPTH = 32;
    /** Largest request: 1 MiB, as for the abuse module. */
    static final int MAX_IO_BYTES = 1 << 20;
    /** START_DEV returns once the partition table is read, which under emulation takes a while. */
    private static final long START_MILLIS = 120_000;
    /** How long a dead server's device may take to be ready for recovery (quiesced, its descriptors closed). */
    private static final long RECOVERY_WAIT_MILLIS = 30_000;
    private static final long NODE_WAIT_MILLIS = 10_000;
    private static final long STOP_WAIT_MILLIS = 10_000;

    private final UblkModule module;
    /** Devices being attached in this process, by attachment id: what {@link #abandon} must remove. */
    private final Map<Integer, Integer> attaching = new ConcurrentHashMap<>();

    public UblkTransport() {
        this(UblkModule.system());
    }

    UblkTransport(UblkModule module) {
        this.module = module;
    }

    @Override
    public String name() {
        return "ublk";
    }

    @Override
    public Availability availability() {
        return module.availability();
    }

    /**
     * How request data moves: the driver copies it between the request and the tag's buffer (the
     * default), or the server copies it through /dev/ublkcN (UBLK_F_USER_COPY) with
     * VDMOUNT_UBLK_COPY=user; make vmbench compares the two.
     */
    private static boolean userCopy() {
        return "user".equals(System.getenv("VDMOUNT_UBLK_COPY"));
    }

    @Override
    public TransportSession attach(AttachRequest request) throws IOException {
        VirtualDisk disk = request.whole().disk();
        // A block device is whole 512-byte sectors: a raw file of odd size shows its sectors only.
        long sectors = disk.size() / 512;
        ServerThreads.lockMemory(m -> System.err.println("vdmount: " + m));
        Consumer<String> log = Log::warn;
        try (UblkControl control = UblkControl.open()) {
            long fingerprint = UblkDevices.fingerprint(BackingText.of(disk), sectors, disk.writable());
            OptionalInt orphan = UblkDevices.orphan(control, fingerprint);
            if (orphan.isPresent()) {
                return takeOver(control, orphan.getAsInt(), fingerprint, request, log);
            }
            UblkDevices.deleteStale(control, fingerprint);
            return create(control, sectors, fingerprint, request, log);
        }
    }

    private TransportSession create(UblkControl control, long sectors, long fingerprint, AttachRequest request,
            Consumer<String> log) throws IOException {
        VirtualDisk disk = request.whole().disk();
        long offered = control.features();
        long flags = offered & (UblkAbi.F_USER_RECOVERY | UblkAbi.F_USER_RECOVERY_REISSUE);
        if (userCopy()) {
            if ((offered & UblkAbi.F_USER_COPY) == 0) {
                throw new IOException("VDMOUNT_UBLK_COPY=user: this kernel's ublk driver has no UBLK_F_USER_COPY");
            }
            flags |= UblkAbi.F_USER_COPY;
        }
        int threads = Math.max(1, request.threads());
        UblkDeviceInfo info = control.add(UblkDeviceInfo.wanted(request.index(), threads, QUEUE_DEPTH, MAX_IO_BYTES,
                flags, fingerprint));
        attaching.put(request.id(), info.id());
        UblkServer server = null;
        try {
            control.setParams(info.id(), new UblkParams(sectors, info.maxIoBytes() >> 9, disk.writable()));
            RequestGateway gateway = RequestGateway.of(disk, new FailureLog(UblkControl.disk(info.id()), log));
            server = UblkServer.start(info, gateway, log);
            server.awaitReady();
            // The disk appears, and the kernel reads its partition table, once the queues serve.
            control.start(info.id(), ProcessHandle.current().pid(), START_MILLIS);
            if (!request.partscan()) {
                String node = UblkControl.disk(info.id());
                PartitionDevices.delete(node, PartitionDevices.listed(Path.of("/sys/block"), name(info.id())));
            }
            List<AttachedDevice> devices = devices(request, info.id(), sectors);
            awaitNodes(devices);
            return new UblkSession(info.id(), fingerprint, server, devices, warnings(info, threads, false));
        } catch (IOException | RuntimeException e) {
            undo(info.id(), server);
            throw e;
        } finally {
            attaching.remove(request.id());
        }
    }

    /**
     * Takes over device {@code id}, whose server died: once the driver has quiesced it and the dead
     * server's descriptors are closed, new queue threads fetch, and the waiting I/O goes to them.
     */
    private TransportSession takeOver(UblkControl control, int id, long fingerprint, AttachRequest request,
            Consumer<String> log) throws IOException {
        startRecovery(control, id);
        UblkDeviceInfo info = control.info(id);
        RequestGateway gateway = RequestGateway.of(request.whole().disk(),
                new FailureLog(UblkControl.disk(id), log));
        // Should this fail, the queue threads are left as they are: the failed attach ends this process,
        // which closes their rings, and the driver quiesces the device again for the next server.
        UblkServer server = UblkServer.start(info, gateway, log);
        server.awaitReady();
        control.endRecovery(id, ProcessHandle.current().pid(), START_MILLIS);
        List<AttachedDevice> devices = devices(request, id, control.sectors(id)).stream()
                .filter(d -> Files.exists(Path.of(d.path()))).toList();
        return new UblkSession(id, fingerprint, server, devices,
                warnings(info, Math.max(1, request.threads()), true));
    }

    private static void startRecovery(UblkControl control, int id) throws IOException {
        long deadline = System.currentTimeMillis() + RECOVERY_WAIT_MILLIS;
        while (true) {
            try {
                control.startRecovery(id);
                return;
            } catch (UblkCommandException e) {
                if (e.errno() != Errno.EBUSY || System.currentTimeMillis() > deadline) {
                    throw new IOException(UblkControl.disk(id) + ": cannot take the device over from its dead "
                            + "server: " + UblkControl.errnoText(e.errno())
                            + (e.errno() == Errno.EBUSY ? " (the old server's descriptors are still open)" : ""));
                }
            }
            Waits.pause(100);
        }
    }

    /** What the user should know of the device made ({@code takeover}: found) for {@code threads} asked for. */
    private static List<String> warnings(UblkDeviceInfo info, int threads, boolean takeover) {
        List<String> warnings = new ArrayList<>();
        if (!info.has(UblkAbi.F_USER_RECOVERY)) {
            warnings.add(UblkControl.disk(info.id()) + ": this kernel's ublk driver cannot hand the device to a new "
                    + "server (no UBLK_F_USER_RECOVERY): if this server dies, the device's I/O fails");
        } else if (!info.has(UblkAbi.F_USER_RECOVERY_REISSUE)) {
            warnings.add(UblkControl.disk(info.id()) + ": requests being served when a server dies will fail "
                    + "(this kernel's ublk driver has no UBLK_F_USER_RECOVERY_REISSUE)");
        }
        String served = info.queues() + " thread" + (info.queues() == 1 ? "" : "s");
        if (takeover && info.queues() != threads) {
            warnings.add(UblkControl.disk(info.id()) + " keeps the queues it was made with: served by " + served
                    + ", not " + threads);
        } else if (info.queues() < threads) {
            warnings.add("ublk gives a device at most one queue per CPU: served by " + served + ", not " + threads);
        }
        return warnings;
    }

    private static String name(int id) {
        return UblkAbi.DISK_PREFIX + id;
    }

    private static List<AttachedDevice> devices(AttachRequest request, int id, long sectors) {
        List<AttachedDevice> devices = new ArrayList<>();
        String disk = UblkControl.disk(id);
        for (DiskPart part : request.parts()) {
            if (part.name().equals("disk")) {
                devices.add(new AttachedDevice(disk, sectors * 512, part.name(), part.description()));
            } else {
                devices.add(new AttachedDevice(disk + part.name(), part.disk().size(), part.name(),
                        part.description()));
            }
        }
        return devices;
    }

    private static void awaitNodes(List<AttachedDevice> devices) throws IOException {
        for (AttachedDevice d : devices) {
            if (!Waits.until(() -> Files.exists(Path.of(d.path())), NODE_WAIT_MILLIS)) {
                throw new IOException(d.path() + ": the device node did not appear");
            }
        }
    }

    /**
     * Undoes a failed attach: the device goes, and with it the queue threads' commands. Through a
     * control descriptor of its own: the one that failed may be closed.
     */
    private static void undo(int id, UblkServer server) {
        try (UblkControl control = UblkControl.open()) {
            control.stop(id);
            if (server != null) {
                closeQuietly(server);
            }
            control.delete(id);
        } catch (IOException e) {
            System.err.println("vdmount: undoing a failed ublk attach: " + e.getMessage());
        }
    }

    private static void closeQuietly(UblkServer server) {
        try {
            server.join(STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void detach(List<AttachedDevice> devices, Map<String, String> state, boolean force) throws IOException {
        int id;
        long fingerprint;
        try {
            id = Integer.parseInt(state.get(UblkSession.ID));
            fingerprint = Long.parseUnsignedLong(state.get(UblkSession.FINGERPRINT), 16);
        } catch (RuntimeException e) {
            throw new IOException("the attachment's record does not say which ublk device it has");
        }
        if (!UblkDevices.stillOurs(id, fingerprint)) {
            return; // gone already, and the number may serve another image by now
        }
        // Stopping fails what is queued and ends the server's queues (a dead server's too); the device
        // is then deleted, and its number is free once its server has let go of /dev/ublkcN.
        try (UblkControl control = UblkControl.open()) {
            control.stop(id);
            control.delete(id);
        }
        Waits.until(() -> UblkDevices.gone(id), STOP_WAIT_MILLIS);
    }

    /**
     * In the server process, a device still being made is removed. From another process there is
     * nothing to go by (the attach that was cut short never said which device it had made): a
     * device it left, stopped, is deleted by the next attach of the same image.
     */
    @Override
    public void abandon(AttachRequest request) {
        Integer id = attaching.remove(request.id());
        if (id == null) {
            return;
        }
        try (UblkControl control = UblkControl.open()) {
            control.stop(id);
            control.delete(id);
        } catch (IOException e) {
            System.err.println("vdmount: cleaning up a cut-short ublk attach: " + e.getMessage());
        }
    }

    /** A served device; stopping it from outside ends the queue threads (their commands are aborted). */
    private static final class UblkSession implements TransportSession {
        static final String ID = "ublk";
        static final String FINGERPRINT = "fingerprint";
        private final int id;
        private final long fingerprint;
        private final UblkServer server;
        private final List<AttachedDevice> devices;
        private final List<String> warnings;
        private boolean closed;

        UblkSession(int id, long fingerprint, UblkServer server, List<AttachedDevice> devices, List<String> warnings) {
            this.id = id;
            this.fingerprint = fingerprint;
            this.server = server;
            this.devices = devices;
            this.warnings = warnings;
        }

        @Override
        public List<AttachedDevice> devices() {
            return devices;
        }

        @Override
        public Map<String, String> state() {
            return Map.of(ID, Integer.toString(id), FINGERPRINT, Long.toHexString(fingerprint));
        }

        @Override
        public List<String> warnings() {
            return warnings;
        }

        /**
         * Serving ends when the device is stopped: by 'vdmount detach', which deletes it too, or by
         * something else, after which the stopped device is deleted here.
         */
        @Override
        public void awaitDetached() throws InterruptedException {
            server.join();
            deleteIfOurs();
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (!UblkDevices.stillOurs(id, fingerprint)) {
                return;
            }
            try (UblkControl control = UblkControl.open()) {
                control.stop(id);
                try {
                    server.join(STOP_WAIT_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                control.delete(id);
            }
        }

        private void deleteIfOurs() {
            if (!UblkDevices.stillOurs(id, fingerprint)) {
                return;
            }
            try (UblkControl control = UblkControl.open()) {
                control.delete(id);
            } catch (IOException e) {
                Log.warn(UblkControl.disk(id) + ": " + e.getMessage());
            }
        }
    }
}
