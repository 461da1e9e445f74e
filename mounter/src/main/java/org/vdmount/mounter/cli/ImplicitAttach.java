package org.vdmount.mounter.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** {@code vdmount IMAGE ...} means {@code vdmount attach IMAGE ...}: the product's main job needs no verb. */
final class ImplicitAttach {
    private ImplicitAttach() {
    }

    /**
     * Puts "attach" in front when the first word that is not an option is an existing file rather
     * than a command (so {@code vdmount --transport fuse disk.img} works too).
     */
    static String[] rewrite(String[] args, Set<String> commands) {
        for (String a : args) {
            if (commands.contains(a)) {
                return args;
            }
            if (!a.startsWith("-") && isImage(a)) {
                String[] withVerb = new String[args.length + 1];
                withVerb[0] = "attach";
                System.arraycopy(args, 0, withVerb, 1, args.length);
                return withVerb;
            }
        }
        return args;
    }

    private static boolean isImage(String arg) {
        try {
            Path p = Path.of(arg);
            return Files.exists(p) && !Files.isDirectory(p);
        } catch (RuntimeException e) {
            return false;
        }
    }
}
