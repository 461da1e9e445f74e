package org.vdmount.mounter.transport.ublk;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.system.KernelModules;
import org.vdmount.mounter.transport.Availability;

/** Whether ublk can be had, against fake /dev, /lib/modules and /proc/sys trees: every refusal says why. */
class UblkModuleTest {
    @TempDir
    Path dir;

    private UblkModule module(boolean root) throws IOException {
        Files.createDirectories(dir.resolve("proc/kernel"));
        Files.writeString(dir.resolve("proc/kernel/osrelease"), "6.1.0-test\n");
        Files.writeString(dir.resolve("proc/kernel/modules_disabled"), "0\n");
        return new UblkModule(dir.resolve("dev/ublk-control"), new KernelModules(dir.resolve("modules"),
                dir.resolve("proc")), root);
    }

    private void moduleFile(String name) throws IOException {
        Path release = Files.createDirectories(dir.resolve("modules/6.1.0-test"));
        Files.writeString(release.resolve("modules.dep"), "kernel/drivers/block/loop.ko:\nkernel/drivers/block/" + name
                + ":\n");
    }

    @Test
    void aKernelWithoutTheDriverSaysSoAndWhatItTakes() throws IOException {
        Availability a = module(true).availability();
        assertFalse(a.usable());
        assertTrue(a.reason().contains("the kernel has no ublk driver")
                && a.reason().contains("6.1.0-test does not exist")
                && a.reason().contains("Linux 6.0 or newer built with CONFIG_BLK_DEV_UBLK"), a.reason());
        assertFalse(a.reason().contains("\n"));
        moduleFile("nbd.ko");
        assertTrue(module(true).availability().reason().contains("has no ublk_drv module"));
    }

    @Test
    void theCompressedModuleCounts() throws IOException {
        moduleFile("ublk_drv.ko.xz");
        assertTrue(module(true).loadable().usable());
    }

    @Test
    void loadingNeedsRootAndAKernelThatLoadsModules() throws IOException {
        moduleFile("ublk_drv.ko");
        Availability a = module(false).availability();
        assertFalse(a.usable());
        assertTrue(a.reason().contains("ublk_drv is not loaded, and loading it needs root"), a.reason());
        UblkModule asRoot = module(true);
        Files.writeString(dir.resolve("proc/kernel/modules_disabled"), "1\n");
        assertTrue(asRoot.availability().reason().contains("modules_disabled"), asRoot.availability().reason());
    }

    @Test
    void aLoadedDriverStillNeedsRoot() throws IOException {
        Files.createDirectories(dir.resolve("dev"));
        Files.createFile(dir.resolve("dev/ublk-control"));
        Availability a = module(false).availability();
        assertFalse(a.usable());
        assertTrue(a.reason().contains("root only (CAP_SYS_ADMIN"), a.reason());
    }
}
