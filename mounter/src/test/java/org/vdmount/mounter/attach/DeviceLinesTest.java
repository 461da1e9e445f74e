package org.vdmount.mounter.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.vdmount.formats.DiskInfo;
import org.vdmount.mounter.util.Sizes;
import org.vdmount.mounter.transport.AttachedDevice;

class DeviceLinesTest {
    @Test
    void sizesReadLikeTheIssueShowsThem() {
        assertEquals("512 MiB", Sizes.human(512L << 20));
        assertEquals("20.0 GiB", Sizes.human(20L << 30));
        assertEquals("19.5 GiB", Sizes.human((39L << 30) / 2));
        assertEquals("100 B", Sizes.human(100));
        assertEquals("1.0 KiB", Sizes.human(1024));
        assertEquals("8.0 EiB", Sizes.human(Long.MAX_VALUE));
    }

    @Test
    void loopPartitionsSayWhichPartitionTheyAre() {
        DiskInfo info = new DiskInfo("disk.qcow2", "qcow2").subformat("v3");
        String label = DeviceLines.diskLabel("disk.qcow2", info, "read-only", "fuse");
        assertEquals("/dev/loop0    20.0 GiB  disk.qcow2 (qcow2 v3, read-only, fuse)",
                DeviceLines.line(new AttachedDevice("/dev/loop0", 20L << 30, "disk", label)));
        assertEquals("/dev/loop1    512 MiB   p1 EFI System",
                DeviceLines.line(new AttachedDevice("/dev/loop1", 512L << 20, "p1", "EFI System")));
        assertEquals("/dev/loop11   512 MiB   p1 EFI System",
                DeviceLines.line(new AttachedDevice("/dev/loop11", 512L << 20, "p1", "EFI System")));
        assertEquals("/dev/abuse0p1 512 MiB   EFI System",
                DeviceLines.line(new AttachedDevice("/dev/abuse0p1", 512L << 20, "p1", "EFI System")));
    }
}
