package org.vdmount.mounter.transport.abuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.BackingText;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.ServerThreads;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.util.Log;

/**
 * The abuse kernel module: /dev/abuseN is the disk, the kernel's own partition scan makes
 * /dev/abuseNpM, and a pool of worker threads serves the requests.
 */
public final class AbuseTransport implements Transport {
    /** Largest request the device accepts: 1 MiB, the module's default. */
    static final int MAX_REQUEST = 1 << 20;
    private static final long NODE_WAIT_MILLIS = 10_000;

    @Override
    public String name() {
        return "abuse";
    }

    @Override
    public Availability availability() {
        if (AbuseControl.available()) {
            return Availability.yes();
        }
        return Availability.no("the abuse module is not loaded (build it with 'make -C kmod' and load it with "
                + "'insmod kmod/abuse.ko', or install it with DKMS: see kmod/README.md)");
    }

    /** The text sysfs keeps for the device: what a new server compares to find its orphan. */
    static String backingText(VirtualDisk disk) {
        return BackingText.of(disk);
    }

    @Override
    public TransportSession attach(AttachRequest request) throws IOException {
        VirtualDisk disk = request.whole().disk();
        String backing = backingText(disk);
        ServerThreads.lockMemory(m -> System.err.println("vdmount: " + m));
        try (AbuseControl control = AbuseControl.open()) {
            OptionalInt orphan = OrphanFinder.find(control, backing);
            AbuseDeviceStatus device;
            boolean created = orphan.isEmpty();
            if (created) {
                // A block device is whole 512-byte sectors: a raw file of odd size shows its sectors only,
                // as a loop device would.
                long size = disk.size() / 512 * 512;
                device = control.add(new AbuseDeviceConfig(request.index(), size, 512, MAX_REQUEST, 0, 0,
                        !disk.writable(), !request.partscan(), null, null));
                control.setBacking(device.index(), backing);
            } else {
                device = control.status(orphan.getAsInt());
            }
            Consumer<String> log = Log::warn;
            RequestGateway gateway = RequestGateway.of(disk, new FailureLog(device.devicePath(), log));
            AbuseServer server = new AbuseServer(device.index(), gateway, Math.max(1, request.threads()),
                    device.maxReqBytes(), log);
            server.start();
            try {
                // The disk appears, and the kernel reads its partition table, once the workers can serve.
                server.awaitAttached();
                control.start(device.index());
                List<AttachedDevice> devices = devices(request, device);
                for (AttachedDevice d : devices) {
                    waitForNode(d.path());
                }
                return new AbuseSession(device.index(), backing, server, devices);
            } catch (IOException | RuntimeException e) {
                closeQuietly(server);
                if (created) {
                    control.remove(device.index());
                }
                throw e;
            }
        }
    }

    private static List<AttachedDevice> devices(AttachRequest request, AbuseDeviceStatus device) {
        List<AttachedDevice> devices = new ArrayList<>();
        String disk = device.devicePath();
        for (DiskPart part : request.parts()) {
            if (part.name().equals("disk")) {
                devices.add(new AttachedDevice(disk, device.size(), part.name(), part.description()));
            } else {
                devices.add(new AttachedDevice(disk + part.name(), part.disk().size(), part.name(),
                        part.description()));
            }
        }
        return devices;
    }

    private static void waitForNode(String path) throws IOException {
        long deadline = System.currentTimeMillis() + NODE_WAIT_MILLIS;
        while (!Files.exists(Path.of(path))) {
            if (System.currentTimeMillis() > deadline) {
                throw new IOException(path + ": the device node did not appear");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(path + ": interrupted while waiting for the device node");
            }
        }
    }

    private static void closeQuietly(AbuseServer server) {
        try {
            server.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void detach(List<AttachedDevice> devices, Map<String, String> state, boolean force) throws IOException {
        int index = Integer.parseInt(state.get("index"));
        if (!stillOurs(index, state.get("backing"))) {
            return; // already gone, and the number may serve another image by now
        }
        try (AbuseControl control = AbuseControl.open()) {
            if (force) {
                control.reset(index);
            }
            control.remove(index);
        }
    }

    /**
     * Whether device {@code index} still shows {@code backing}: device numbers are reused as soon as
     * they are free, so a number alone may name another image's device by now.
     */
    static boolean stillOurs(int index, String backing) {
        if (backing == null) {
            return true;
        }
        try (AbuseControl control = AbuseControl.open()) {
            return control.backing(index).strip().equals(backing.strip());
        } catch (IOException e) {
            return false;
        }
    }

    /** A device made by an attach that was cut short has our backing text and no server: remove it. */
    @Override
    public void abandon(AttachRequest request) {
        if (request.parts().isEmpty()) {
            return; // nothing says which image it was: its device, if any, is left for a takeover
        }
        try (AbuseControl control = AbuseControl.open()) {
            OptionalInt made = OrphanFinder.find(control, backingText(request.whole().disk()));
            if (made.isPresent()) {
                control.remove(made.getAsInt());
            }
        } catch (IOException e) {
            System.err.println("vdmount: cleaning up a cut-short attach: " + e.getMessage());
        }
    }

    /** A served device; detaching from outside removes it, which ends the workers (ENODEV). */
    private static final class AbuseSession implements TransportSession {
        private final int index;
        private final String backing;
        private final AbuseServer server;
        private final List<AttachedDevice> devices;
        private boolean closed;

        AbuseSession(int index, String backing, AbuseServer server, List<AttachedDevice> devices) {
            this.index = index;
            this.backing = backing;
            this.server = server;
            this.devices = devices;
        }

        @Override
        public List<AttachedDevice> devices() {
            return devices;
        }

        @Override
        public Map<String, String> state() {
            return Map.of("index", Integer.toString(index), "backing", backing);
        }

        @Override
        public void awaitDetached() throws InterruptedException {
            server.join();
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                server.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (stillOurs(index, backing)) {
                try (AbuseControl control = AbuseControl.open()) {
                    control.remove(index);
                }
            }
        }
    }
}
