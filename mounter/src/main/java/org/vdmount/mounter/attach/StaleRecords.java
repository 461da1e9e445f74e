package org.vdmount.mounter.attach;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * When a new server takes over the devices of one that was killed (the abuse module keeps them and
 * their queued requests), the dead server's record names the same devices: forget it, so that
 * `list` and `detach` see one attachment.
 */
final class StaleRecords {
    private StaleRecords() {
    }

    static void forget(RunDirectory run, int ours, List<AttachedDevice> devices) throws IOException {
        Set<String> paths = devices.stream().map(AttachedDevice::path).collect(Collectors.toSet());
        for (AttachmentRecord r : run.list()) {
            if (r.id() != ours && !r.starting() && !r.serverAlive()
                    && r.devices().stream().anyMatch(d -> paths.contains(d.path()))) {
                run.remove(r.id());
            }
        }
    }
}
