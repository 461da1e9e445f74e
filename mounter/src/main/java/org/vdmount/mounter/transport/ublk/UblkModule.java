package org.vdmount.mounter.transport.ublk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.system.KernelModules;
import org.vdmount.mounter.system.Privileges;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.Waits;

/**
 * Whether the kernel's ublk driver can be had here: loaded (/dev/ublk-control exists), or loadable
 * with {@code modprobe ublk_drv}, which is then tried, so that --transport auto passes over a
 * kernel that has the module file but will not load it. Then the driver is asked what it offers:
 * one older than the feature query (Linux 6.5) is refused by name.
 */
final class UblkModule {
    static final String MODULE = "ublk_drv";
    private static final long LOAD_WAIT_MILLIS = 10_000;

    private final Path control;
    private final KernelModules kernel;
    private final boolean root;

    UblkModule(Path control, KernelModules kernel, boolean root) {
        this.control = control;
        this.kernel = kernel;
        this.root = root;
    }

    static UblkModule system() {
        return new UblkModule(Path.of(UblkAbi.CONTROL_DEVICE), KernelModules.system(), Privileges.isRoot());
    }

    /** Whether ublk is usable, loading the driver if it can be loaded (that takes root). */
    Availability availability() {
        if (!Files.exists(control)) {
            Availability loadable = loadable();
            if (!loadable.usable()) {
                return loadable;
            }
            try {
                load();
            } catch (IOException e) {
                return Availability.no(e.getMessage());
            }
        }
        if (!root) {
            return Availability.no("ublk devices are made by root only (CAP_SYS_ADMIN; vdmount does not use "
                    + "UBLK_F_UNPRIVILEGED_DEV)");
        }
        try (UblkControl c = UblkControl.open()) {
            return Availability.yes();
        } catch (IOException e) {
            return Availability.no(e.getMessage());
        }
    }

    /** Whether modprobe could load the driver here, judged from the files: nothing is loaded. */
    Availability loadable() {
        if (!kernel.has(MODULE)) {
            return Availability.no("the kernel has no ublk driver (" + MODULE + " is not loaded, and "
                    + kernel.whereLooked(MODULE) + "; ublk needs Linux 6.0 or newer built with CONFIG_BLK_DEV_UBLK)");
        }
        if (kernel.loadingDisabled()) {
            return Availability.no(MODULE + " is not loaded and this kernel refuses to load modules "
                    + "(/proc/sys/kernel/modules_disabled is 1)");
        }
        if (!Commands.installed("modprobe")) {
            return Availability.no(MODULE + " is not loaded and modprobe is not installed (package kmod)");
        }
        if (!root) {
            return Availability.no(MODULE + " is not loaded, and loading it needs root");
        }
        return Availability.yes();
    }

    /** modprobe ublk_drv, then waits for its control device (devtmpfs makes it). */
    private void load() throws IOException {
        try {
            Commands.run("modprobe", MODULE);
        } catch (IOException e) {
            throw new IOException(MODULE + " is not loaded and " + e.getMessage());
        }
        if (!Waits.until(() -> Files.exists(control), LOAD_WAIT_MILLIS)) {
            throw new IOException("modprobe " + MODULE + " succeeded but no " + control + " appeared");
        }
    }
}
