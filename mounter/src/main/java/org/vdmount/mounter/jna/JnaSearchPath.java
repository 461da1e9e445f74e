package org.vdmount.mounter.jna;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells JNA where the system keeps its libraries before JNA is first used. Unless told, JNA's first
 * use runs {@code ldconfig -p} to find out: a process spawned during every start, which the image
 * open waited for (about 10 ms of a 100 ms {@code info}). vdmount loads its libraries by names the
 * dynamic loader resolves itself (libc, {@code libzstd.so.1}); the standard directories are all
 * JNA's fallback search needs.
 */
public final class JnaSearchPath {
    static final String PROPERTY = "jna.platform.library.path";
    private static final String[] MULTIARCH = {"x86_64-linux-gnu", "aarch64-linux-gnu", "i386-linux-gnu",
        "arm-linux-gnueabihf", "powerpc64le-linux-gnu", "s390x-linux-gnu", "riscv64-linux-gnu"};

    private JnaSearchPath() {
    }

    /** Sets JNA's search path to the standard library directories present, unless the user set it. */
    public static void setUnlessSet() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, String.join(File.pathSeparator, directories()));
        }
    }

    static List<String> directories() {
        List<String> found = new ArrayList<>();
        for (String prefix : new String[] {"/usr/lib/", "/lib/"}) {
            for (String arch : MULTIARCH) {
                add(found, prefix + arch);
            }
        }
        for (String dir : new String[] {"/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib"}) {
            add(found, dir);
        }
        return found;
    }

    private static void add(List<String> found, String dir) {
        if (new File(dir).isDirectory()) {
            found.add(dir);
        }
    }
}
