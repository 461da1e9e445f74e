package org.vdmount.mounter.transport.nbd;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.TransportSession;

/**
 * A connected /dev/nbdN in the server process. It ends when the device stops: disconnected by
 * {@code vdmount detach} (NBD_DISCONNECT from another process), by {@link #close} on SIGTERM, or
 * because the kernel gave up on the connections (request timeout).
 */
final class NbdSession implements TransportSession {
    static final String INDEX = "index";
    static final String TID = "tid";
    private static final long DISCONNECT_WAIT_MILLIS = 15_000;
    private static final long STOP_WAIT_MILLIS = 5_000;

    private final KernelDevice.Claim claim;
    private final KernelDevice device;
    private final Connections connections;
    private final VirtualDisk disk;
    private final List<AttachedDevice> devices;
    private final List<String> warnings;
    private boolean closed;
    private boolean finished;

    NbdSession(KernelDevice.Claim claim, KernelDevice device, Connections connections, VirtualDisk disk,
            List<AttachedDevice> devices, List<String> warnings) {
        this.claim = claim;
        this.device = device;
        this.connections = connections;
        this.disk = disk;
        this.devices = List.copyOf(devices);
        this.warnings = List.copyOf(warnings);
    }

    @Override
    public List<AttachedDevice> devices() {
        return devices;
    }

    /** The device number, and the serving thread the kernel shows for it: the pair says it is still ours. */
    @Override
    public Map<String, String> state() {
        return Map.of(INDEX, Integer.toString(claim.index()), TID, Integer.toString(claim.tid()));
    }

    @Override
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public void awaitDetached() throws InterruptedException {
        device.awaitEnd(0);
        finish();
    }

    /** Flushes, disconnects as detach would, and waits for the device to stop; cuts it off if it will not. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            if (!device.hasEnded()) {
                DeviceControl.disconnect(claim.index(), true);
                if (!device.awaitEnd(DISCONNECT_WAIT_MILLIS)) {
                    DeviceControl.clearSockets(claim.index());
                    device.awaitEnd(STOP_WAIT_MILLIS);
                }
            }
            finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connections.shutdown();
        }
    }

    /** Once the device stopped: no request can come any more, so the image is flushed for the last time. */
    private synchronized void finish() throws InterruptedException {
        if (finished) {
            return;
        }
        finished = true;
        connections.shutdown();
        connections.join(STOP_WAIT_MILLIS);
        try {
            disk.flush();
        } catch (IOException | RuntimeException e) {
            System.err.println("vdmount: /dev/nbd" + claim.index() + ": flushing the image failed: " + e.getMessage());
        }
    }
}
