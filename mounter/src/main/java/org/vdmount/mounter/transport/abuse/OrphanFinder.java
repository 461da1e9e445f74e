package org.vdmount.mounter.transport.abuse;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Finds a device whose server died: the module keeps each device's backing description, so a new
 * server for the same image can take over the device and the requests queued on it. Every device
 * is looked at, those whose server died before their disk was added (no /dev/abuseN yet) too.
 */
final class OrphanFinder {
    private OrphanFinder() {
    }

    /** The index of a device described as {@code backing} that has no server now, if any. */
    static OptionalInt find(AbuseControl control, String backing) throws IOException {
        int index = 0;
        for (Optional<AbuseDeviceStatus> next = control.next(index); next.isPresent();
                next = control.next(index)) {
            AbuseDeviceStatus device = next.get();
            index = device.index() + 1;
            if (device.servers() != 0 || device.state() == AbuseAbi.STATE_DEAD) {
                continue;
            }
            String text;
            try {
                text = control.backing(device.index());
            } catch (IOException e) {
                continue; // removed meanwhile
            }
            if (text.strip().equals(backing.strip())) {
                return OptionalInt.of(device.index());
            }
        }
        return OptionalInt.empty();
    }
}
