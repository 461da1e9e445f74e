package org.vdmount.mounter.transport.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device selection against a fake /sys. */
class NbdSysfsTest {
    @TempDir
    Path sys;

    private void device(int index, long size, Integer pid) throws IOException {
        Path dir = Files.createDirectories(sys.resolve("block/nbd" + index));
        Files.writeString(dir.resolve("size"), size + "\n");
        if (pid != null) {
            Files.writeString(dir.resolve("pid"), pid + "\n");
        }
    }

    @Test
    void freeDevicesAreThoseWithoutServerOrSizeLowestFirst() throws IOException {
        device(0, 131072, 4242);    // connected
        device(1, 0, 4343);         // stopped, but still open somewhere: its pid file stays
        device(2, 0, null);
        device(10, 0, null);
        device(3, 2048, null);      // has a size: being set up by another process
        device(9, 0, null);
        Files.createDirectories(sys.resolve("block/loop0"));
        Files.createDirectories(sys.resolve("block/nbdx"));
        NbdSysfs sysfs = new NbdSysfs(sys);
        assertEquals(List.of(0, 1, 2, 3, 9, 10), sysfs.devices());
        assertEquals(List.of(2, 9, 10), sysfs.freeDevices());
        assertEquals(OptionalInt.of(4242), sysfs.servingTid(0));
        assertEquals(OptionalInt.empty(), sysfs.servingTid(2));
        assertEquals(131072, sysfs.sizeSectors(0));
        assertEquals(0, sysfs.sizeSectors(2));
        assertEquals(-1, sysfs.sizeSectors(7));
    }

    @Test
    void partitionsAndModuleParameters() throws IOException {
        NbdSysfs sysfs = new NbdSysfs(sys);
        assertFalse(sysfs.loaded());
        assertEquals(OptionalInt.empty(), sysfs.maxPart());
        device(0, 131072, 7);
        Files.createDirectories(sys.resolve("block/nbd0/nbd0p2"));
        Files.createDirectories(sys.resolve("block/nbd0/nbd0p10"));
        Files.createDirectories(sys.resolve("block/nbd0/nbd0p1"));
        Files.createDirectories(sys.resolve("block/nbd0/queue"));
        Files.createDirectories(sys.resolve("module/nbd/parameters"));
        Files.writeString(sys.resolve("module/nbd/parameters/max_part"), "31\n");
        assertTrue(sysfs.loaded());
        assertEquals(OptionalInt.of(31), sysfs.maxPart());
        assertEquals(List.of(1, 2, 10), sysfs.partitions(0));
        assertEquals(List.of(), sysfs.partitions(5));
    }
}
