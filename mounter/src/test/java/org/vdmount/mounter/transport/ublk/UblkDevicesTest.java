package org.vdmount.mounter.transport.ublk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fingerprint a device keeps tells apart everything that makes two attachments different devices. */
class UblkDevicesTest {
    @Test
    void theSameViewHasTheSameFingerprintAndEveryDifferenceChangesIt() {
        long base = UblkDevices.fingerprint("/tmp/disk.qcow2", 131072, false);
        assertEquals(base, UblkDevices.fingerprint("/tmp/disk.qcow2", 131072, false));
        Set<Long> seen = new HashSet<>();
        seen.add(base);
        seen.add(UblkDevices.fingerprint("/tmp/disk.qcow2", 131072, true));
        seen.add(UblkDevices.fingerprint("/tmp/disk.qcow2", 131071, false));
        seen.add(UblkDevices.fingerprint("/tmp/other.qcow2", 131072, false));
        seen.add(UblkDevices.fingerprint("/tmp/disk.qcow2 (overlay /tmp/a.ovl)", 131072, true));
        seen.add(UblkDevices.fingerprint("/tmp/disk.qcow2 (overlay /tmp/b.ovl)", 131072, true));
        assertEquals(6, seen.size());
        assertNotEquals(0L, base);
    }
}
