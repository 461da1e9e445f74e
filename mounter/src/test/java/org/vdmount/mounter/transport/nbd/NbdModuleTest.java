package org.vdmount.mounter.transport.nbd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.transport.Availability;

/** Whether nbd can be had, against fake /sys, /lib/modules and /proc/sys trees. */
class NbdModuleTest {
    @TempDir
    Path dir;

    private NbdModule module() throws IOException {
        Files.createDirectories(dir.resolve("sys"));
        Files.createDirectories(dir.resolve("proc/kernel"));
        Files.writeString(dir.resolve("proc/kernel/osrelease"), "6.1.0-test\n");
        Files.writeString(dir.resolve("proc/kernel/modules_disabled"), "0\n");
        return new NbdModule(new NbdSysfs(dir.resolve("sys")), dir.resolve("modules"), dir.resolve("proc"));
    }

    @Test
    void aKernelWithoutTheModuleSaysSoInOneLine() throws IOException {
        Availability a = module().availability();
        assertFalse(a.usable());
        assertTrue(a.reason().contains("no nbd driver") && a.reason().contains("6.1.0-test does not exist"), a.reason());
        assertFalse(a.reason().contains("\n"));
    }

    @Test
    void theModuleIsFoundThroughModulesDepCompressedOrNot() throws IOException {
        NbdModule module = module();
        Path release = Files.createDirectories(dir.resolve("modules/6.1.0-test"));
        Files.writeString(release.resolve("modules.dep"), "kernel/drivers/block/loop.ko:\nkernel/drivers/block/nbd2.ko:\n");
        assertFalse(module.hasModule());
        assertTrue(module.availability().reason().contains("has no nbd module"), module.availability().reason());
        Files.writeString(release.resolve("modules.dep"), "kernel/drivers/block/loop.ko:\nkernel/drivers/block/nbd.ko.xz:\n");
        assertTrue(module.hasModule());
    }

    @Test
    void withoutModulesDepTheFileOnDiskCounts() throws IOException {
        NbdModule module = module();
        Path drivers = Files.createDirectories(dir.resolve("modules/6.1.0-test/kernel/drivers/block"));
        assertFalse(module.hasModule());
        Files.createFile(drivers.resolve("nbd.ko"));
        assertTrue(module.hasModule());
    }

    @Test
    void loadedWithoutDevicesIsUnusable() throws IOException {
        NbdModule module = module();
        Files.createDirectories(dir.resolve("sys/module/nbd/parameters"));
        Availability a = module.availability();
        assertFalse(a.usable());
        assertTrue(a.reason().contains("nbds_max=0"), a.reason());
    }

    @Test
    void disabledModuleLoadingIsAReason() throws IOException {
        NbdModule module = module();
        Path release = Files.createDirectories(dir.resolve("modules/6.1.0-test"));
        Files.writeString(release.resolve("modules.dep"), "kernel/drivers/block/nbd.ko:\n");
        Files.writeString(dir.resolve("proc/kernel/modules_disabled"), "1\n");
        assertTrue(module.availability().reason().contains("modules_disabled"), module.availability().reason());
    }
}
