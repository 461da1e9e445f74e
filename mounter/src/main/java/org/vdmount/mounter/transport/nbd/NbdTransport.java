package org.vdmount.mounter.transport.nbd;

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
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdProtocol;
import org.vdmount.mounter.transport.AttachRequest;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.DiskPart;
import org.vdmount.mounter.transport.Transport;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.util.Log;
import org.vdmount.mounter.transport.Waits;

/**
 * The kernel's own nbd driver, given one end of a socket pair per connection: /dev/nbdN is the
 * disk, /dev/nbdNpM its partitions (the kernel's scan, when the module has max_part > 0), and our
 * NBD server's transmission loop answers the requests. Nothing listens on a network or a path.
 *
 * <p>Configured through the ioctl interface rather than netlink: it needs no generic-netlink
 * family lookup and attribute encoding, and it ties the device to this process. NBD_DO_IT blocks a
 * thread of ours for the life of the device, so when the process dies the kernel ends the device
 * by itself; a netlink device would outlive its server with dead sockets until somebody
 * disconnected it.
 *
 * <p>References: Linux include/uapi/linux/nbd.h, drivers/block/nbd.c; the NBD protocol's
 * doc/proto.md (transmission phase, simple replies).
 */
public final class NbdTransport implements Transport {
    /**
     * How long one request may take before the kernel drops the connection and fails it: long
     * enough for a slow image under emulation, short enough that a hung server does not hold
     * its readers for ever. A server that dies closes its sockets, and its I/O fails at once.
     */
    static final int REQUEST_TIMEOUT_SECONDS = 120;
    private static final long CLAIM_WAIT_MILLIS = 30_000;
    private static final long START_WAIT_MILLIS = 10_000;
    private static final long DETACH_WAIT_MILLIS = 10_000;
    /** How long the kernel may take to let go of a device nobody has open any more. */
    private static final long RELEASE_WAIT_MILLIS = 3_000;

    private final NbdSysfs sysfs;
    private final NbdModule module;
    /** Devices being attached in this process, by attachment id: what {@link #abandon} must stop. */
    private final Map<Integer, KernelDevice> attaching = new ConcurrentHashMap<>();

    public NbdTransport() {
        this(NbdSysfs.system(), NbdModule.system());
    }

    NbdTransport(NbdSysfs sysfs, NbdModule module) {
        this.sysfs = sysfs;
        this.module = module;
    }

    @Override
    public String name() {
        return "nbd";
    }

    @Override
    public Availability availability() {
        return module.availability();
    }

    @Override
    public TransportSession attach(AttachRequest request) throws IOException {
        module.ensureLoaded();
        VirtualDisk disk = request.whole().disk();
        // A block device is whole 512-byte sectors: a raw file of odd size shows its sectors only.
        long size = disk.size() / KernelDevice.BLOCK_SIZE * KernelDevice.BLOCK_SIZE;
        int connectionCount = Math.max(1, request.threads());
        List<SocketPair> pairs = socketPairs(connectionCount);
        Consumer<String> log = Log::warn;
        RequestGateway gateway = RequestGateway.of(disk, new FailureLog("nbd", log));
        NbdExport export = new NbdExport(disk.info().name(), "", gateway);
        Connections connections = new Connections(pairs.stream().map(SocketPair::serverEnd).toList(), export,
                "nbd", log);
        connections.start();
        List<Integer> candidates = request.index() >= 0 ? List.of(request.index()) : sysfs.freeDevices();
        KernelDevice device = KernelDevice.start(new KernelDevice.Setup(candidates, size,
                NbdProtocol.transmissionFlags(gateway.capabilities(), false), REQUEST_TIMEOUT_SECONDS,
                pairs.stream().map(SocketPair::kernelEnd).toList()));
        attaching.put(request.id(), device);
        KernelDevice.Claim claim = null;
        try {
            claim = device.awaitClaim(CLAIM_WAIT_MILLIS);
            awaitStart(device, claim, size);
            List<String> warnings = new ArrayList<>();
            List<AttachedDevice> devices = devices(request, claim.index(), size, warnings);
            return new NbdSession(claim, device, connections, disk, devices, warnings);
        } catch (IOException | RuntimeException e) {
            stop(device, claim, connections);
            throw e;
        } finally {
            attaching.remove(request.id());
        }
    }

    private static List<SocketPair> socketPairs(int count) throws IOException {
        List<SocketPair> pairs = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                pairs.add(SocketPair.open());
            }
            return pairs;
        } catch (IOException e) {
            for (SocketPair p : pairs) {
                LibC.INSTANCE.close(p.kernelEnd());
                LibC.INSTANCE.close(p.serverEnd());
            }
            throw e;
        }
    }

    /**
     * The device runs once the kernel shows our NBD_DO_IT thread as its server and its size: the
     * driver shows the thread before it sets the size, and a partition scan in between reads a disk
     * of no sectors.
     */
    private void awaitStart(KernelDevice device, KernelDevice.Claim claim, long size) throws IOException {
        boolean started = Waits.until(() -> device.hasEnded() || (servedBy(claim.index(), claim.tid())
                && (size == 0 || sysfs.sizeSectors(claim.index()) > 0)), START_WAIT_MILLIS);
        if (device.hasEnded()) {
            throw new IOException("/dev/nbd" + claim.index() + " stopped as soon as it started: "
                    + KernelDevice.errnoText(device.endStatus()));
        }
        if (!started) {
            throw new IOException("/dev/nbd" + claim.index() + " did not start");
        }
    }

    private boolean servedBy(int index, int tid) {
        OptionalInt shown = sysfs.servingTid(index);
        return shown.isPresent() && shown.getAsInt() == tid;
    }

    /**
     * The nodes to report: the disk, and the partitions when they were asked for and the module
     * makes them. With --no-partscan, the partitions the kernel found anyway are deleted.
     */
    private List<AttachedDevice> devices(AttachRequest request, int index, long size, List<String> warnings)
            throws IOException {
        String node = "/dev/nbd" + index;
        List<AttachedDevice> devices = new ArrayList<>();
        devices.add(new AttachedDevice(node, size, "disk", request.whole().description()));
        int maxPart = sysfs.maxPart().orElse(0);
        if (!request.partscan()) {
            if (maxPart > 0) {
                PartitionNodes.scan(index);
                PartitionNodes.deleteAll(sysfs, index);
            }
            return devices;
        }
        List<DiskPart> parts = request.parts().subList(1, request.parts().size());
        if (maxPart == 0) {
            if (!parts.isEmpty()) {
                warnings.add("the nbd module is loaded with max_part=0, so the kernel makes no partition devices: "
                        + "use 'kpartx -a " + node + "', or reload it with 'rmmod nbd; modprobe nbd max_part="
                        + NbdModule.MAX_PART + "'");
            }
            return devices;
        }
        PartitionNodes.scan(index);
        List<String> nodes = new ArrayList<>();
        for (DiskPart part : parts) {
            int number = Integer.parseInt(part.name().substring(1));
            if (number > maxPart) {
                warnings.add("partition " + number + " has no device: the nbd module makes at most " + maxPart
                        + " per disk (max_part)");
                continue;
            }
            nodes.add(node + part.name());
            devices.add(new AttachedDevice(node + part.name(), part.disk().size(), part.name(), part.description()));
        }
        try {
            PartitionNodes.await(nodes);
        } catch (IOException first) {
            // The scan at open failed (seen now and then on 6.12 under emulation: every read of it
            // failed at once, and the partitions appeared at the next attach): ask once more.
            Log.warn("/dev/nbd" + index + ": the partitions did not appear; reading the partition table again");
            PartitionNodes.rescan(index);
            PartitionNodes.await(nodes);
        }
        return devices;
    }

    /** Undoes a failed attach: the device, if it was given one, and our ends of the sockets. */
    private static void stop(KernelDevice device, KernelDevice.Claim claim, Connections connections) {
        try {
            if (claim != null && !device.hasEnded()) {
                DeviceControl.disconnect(claim.index(), false);
                DeviceControl.clearSockets(claim.index());
            }
            connections.shutdown();
            device.awaitEnd(DETACH_WAIT_MILLIS);
            connections.join(DETACH_WAIT_MILLIS);
        } catch (IOException e) {
            System.err.println("vdmount: undoing a failed nbd attach: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void detach(List<AttachedDevice> devices, Map<String, String> state, boolean force) throws IOException {
        int index;
        int tid;
        try {
            index = Integer.parseInt(state.get(NbdSession.INDEX));
            tid = Integer.parseInt(state.get(NbdSession.TID));
        } catch (RuntimeException e) {
            throw new IOException("the attachment's record does not say which nbd device it has");
        }
        if (!servedBy(index, tid)) {
            return; // stopped already, and the number may serve another image by now
        }
        // The kernel shows the thread in NBD_DO_IT; it ends when the device stops.
        Path serverThread = Path.of("/proc", Integer.toString(tid));
        DeviceControl.disconnect(index, false);
        if (Files.exists(serverThread)) {
            Waits.until(() -> !servedBy(index, tid) || !Files.exists(serverThread), DETACH_WAIT_MILLIS);
            if (!servedBy(index, tid)) {
                return;
            }
        }
        // A dead server answers nothing, and a live one that does not answer is cut off: either way
        // the sockets go and whatever waits for them fails now.
        DeviceControl.clearSockets(index);
        if (!Waits.until(() -> !servedBy(index, tid), RELEASE_WAIT_MILLIS) && !force) {
            throw new IOException("/dev/nbd" + index + " is disconnected, but a process still has it open "
                    + "(see 'fuser -vm /dev/nbd" + index + "'): the kernel frees it when that process closes it; "
                    + "detach --force forgets the attachment now");
        }
    }

    /**
     * In the server process, a device still being set up is stopped. From another process there is
     * nothing to do: the server that died while attaching took its device with it (the kernel ends a
     * device whose NBD_DO_IT thread is killed, and frees it once nobody has it open).
     */
    @Override
    public void abandon(AttachRequest request) {
        KernelDevice device = attaching.remove(request.id());
        if (device == null) {
            return;
        }
        try {
            KernelDevice.Claim claim = device.awaitClaim(CLAIM_WAIT_MILLIS);
            DeviceControl.disconnect(claim.index(), false);
            DeviceControl.clearSockets(claim.index());
        } catch (IOException e) {
            System.err.println("vdmount: cleaning up a cut-short nbd attach: " + e.getMessage());
        }
    }
}
