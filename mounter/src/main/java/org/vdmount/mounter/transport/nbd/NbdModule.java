package org.vdmount.mounter.transport.nbd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vdmount.mounter.system.Commands;
import org.vdmount.mounter.system.KernelModules;
import org.vdmount.mounter.system.Privileges;
import org.vdmount.mounter.transport.Availability;
import org.vdmount.mounter.transport.Waits;

/**
 * Whether the kernel's nbd driver can be had here, and loading it when it is not loaded yet. The
 * module is loaded with partitions enabled (max_part=16): its own default differs between kernel
 * versions, and without partitions the devices are of little use to us.
 */
final class NbdModule {
    static final int MAX_PART = 16;
    private static final long LOAD_WAIT_MILLIS = 10_000;

    private final NbdSysfs sysfs;
    private final KernelModules kernel;

    NbdModule(NbdSysfs sysfs, Path modules, Path procSys) {
        this.sysfs = sysfs;
        this.kernel = new KernelModules(modules, procSys);
    }

    static NbdModule system() {
        return new NbdModule(NbdSysfs.system(), Path.of("/lib/modules"), Path.of("/proc/sys"));
    }

    Availability availability() {
        boolean root = Privileges.isRoot();
        if (sysfs.loaded()) {
            if (devices().isEmpty()) {
                return Availability.no("the nbd module is loaded with nbds_max=0, so there is no /dev/nbdN "
                        + "(reload it: rmmod nbd && modprobe nbd)");
            }
            return root ? Availability.yes() : Availability.no("configuring nbd devices needs root");
        }
        if (!kernel.has("nbd")) {
            return Availability.no("the kernel has no nbd driver (it is not loaded, and " + kernel.whereLooked("nbd") + ")");
        }
        if (kernel.loadingDisabled()) {
            return Availability.no("nbd is not loaded and this kernel refuses to load modules "
                    + "(/proc/sys/kernel/modules_disabled is 1)");
        }
        if (!Commands.installed("modprobe")) {
            return Availability.no("nbd is not loaded and modprobe is not installed (package kmod)");
        }
        return root ? Availability.yes() : Availability.no("nbd is not loaded, and loading it needs root");
    }

    /** Loads the module unless it is there already; returns once its devices exist. */
    void ensureLoaded() throws IOException {
        if (sysfs.loaded()) {
            return;
        }
        Commands.run("modprobe", "nbd", "max_part=" + MAX_PART);
        if (!Waits.until(() -> !devices().isEmpty() && Files.exists(Path.of("/dev/nbd0")), LOAD_WAIT_MILLIS)) {
            throw new IOException("modprobe nbd succeeded but no /dev/nbd0 appeared");
        }
    }

    private List<Integer> devices() {
        try {
            return sysfs.devices();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Whether modprobe would find nbd for the running kernel: as modules.dep lists it, or on disk. */
    boolean hasModule() {
        return kernel.has("nbd");
    }
}
