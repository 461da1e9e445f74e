package org.vdmount.mounter.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What the running kernel could load: whether a module exists for it, and whether loading is
 * allowed at all. Read from /lib/modules and /proc/sys, which tests replace with trees of their own.
 */
public final class KernelModules {
    private final Path modules;
    private final Path procSys;

    public KernelModules(Path modules, Path procSys) {
        this.modules = modules;
        this.procSys = procSys;
    }

    public static KernelModules system() {
        return new KernelModules(Path.of("/lib/modules"), Path.of("/proc/sys"));
    }

    /** The running kernel's release, as /lib/modules names its directory. */
    public String release() {
        try {
            return Files.readString(procSys.resolve("kernel/osrelease")).strip();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    /** The directory of the running kernel's modules. */
    public Path directory() {
        return modules.resolve(release());
    }

    /**
     * Whether modprobe would find module {@code name} ("nbd", "ublk_drv") for the running kernel: as
     * modules.dep lists it, or on disk under kernel/drivers/block. Modules may be compressed
     * (name.ko.xz, name.ko.zst...).
     */
    public boolean has(String name) {
        Path dir = directory();
        try {
            Path dep = dir.resolve("modules.dep");
            if (Files.isReadable(dep)) {
                try (Stream<String> lines = Files.lines(dep)) {
                    return lines.map(line -> line.substring(0, Math.max(0, line.indexOf(':'))))
                            .anyMatch(path -> isModule(path, name));
                }
            }
            Path drivers = dir.resolve("kernel/drivers/block");
            if (Files.isDirectory(drivers)) {
                try (Stream<Path> files = Files.list(drivers)) {
                    return files.anyMatch(f -> isModule(f.toString(), name));
                }
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: as good as absent
        }
        return false;
    }

    private static boolean isModule(String path, String name) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        return file.equals(name + ".ko") || file.startsWith(name + ".ko.");
    }

    /** Whether the kernel refuses to load any module (kernel.modules_disabled = 1). */
    public boolean loadingDisabled() {
        try {
            return Files.readString(procSys.resolve("kernel/modules_disabled")).strip().equals("1");
        } catch (IOException e) {
            return false;
        }
    }

    /** What the reason for a missing module says about where it was looked for. */
    public String whereLooked(String name) {
        Path dir = directory();
        return Files.isDirectory(dir) ? dir + " has no " + name + " module" : dir + " does not exist";
    }
}
