package org.vdmount.mounter.transport.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vdmount.mounter.transport.AttachedDevice;
import org.vdmount.mounter.transport.TransportSession;
import org.vdmount.mounter.util.Log;

/** A live FUSE + loop attachment in the server process. */
final class FuseSession implements TransportSession {

    private final FuseMount mount;
    private final List<AttachedDevice> devices;
    private final Map<String, String> state;

    FuseSession(FuseMount mount, List<AttachedDevice> devices, Map<String, String> state) {
        this.mount = mount;
        this.devices = List.copyOf(devices);
        this.state = state;
    }

    @Override
    public List<AttachedDevice> devices() {
        return devices;
    }

    @Override
    public Map<String, String> state() {
        return state;
    }

    @Override
    public void awaitDetached() throws InterruptedException {
        mount.awaitUnmount();
    }

    @Override
    public void close() throws IOException {
        release(devices, mount.mountPoint(), mount);
    }

    /**
     * Unbinds the loops and unmounts, never stopping half way: a loop still in use (mounted) gets
     * autoclear from losetup and goes when unmounted; a busy FUSE mount is detached lazily.
     */
    static void release(List<AttachedDevice> devices, Path mountPoint, FuseMount mount) {
        List<String> loops = new ArrayList<>();
        for (int i = devices.size() - 1; i >= 0; i--) {
            loops.add(devices.get(i).path());
        }
        try {
            // Also any loop bound while losetup failed to tell us its name.
            for (String extra : LoopDevices.boundUnder(mountPoint)) {
                if (!loops.contains(extra)) {
                    loops.add(extra);
                }
            }
        } catch (IOException e) {
            Log.warn("cannot list loop devices: " + e.getMessage());
        }
        for (String loop : loops) {
            try {
                LoopDevices.unbind(loop, mountPoint);
            } catch (IOException e) {
                Log.warn("cannot unbind " + loop + ": " + e.getMessage());
            }
        }
        try {
            mount.close();
        } catch (IOException e) {
            Log.warn(e.getMessage());
        }
        FuseTransport.deleteIfEmpty(mountPoint);
    }
}
