package org.vdmount.mounter;

import com.sun.jna.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Copies JNA's native library for this machine out of the jar into a directory, where the
 * launcher points JNA ({@code jna.boot.library.path}): otherwise JNA unpacks it into a temporary
 * file and loads it from there on every run, some 20 ms of a short command. Run by {@code make}
 * beside the start-up cache; not a user command.
 */
public final class NativeLibraryExport {
    private NativeLibraryExport() {
    }

    /** Usage: NativeLibraryExport DIRECTORY. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: NativeLibraryExport DIRECTORY");
            System.exit(2);
        }
        String resource = "/com/sun/jna/" + Platform.RESOURCE_PREFIX + "/libjnidispatch.so";
        try (InputStream in = NativeLibraryExport.class.getResourceAsStream(resource)) {
            if (in == null) {
                System.err.println("no JNA library for " + Platform.RESOURCE_PREFIX + " in the jar");
                System.exit(1);
            }
            Path dir = Files.createDirectories(Path.of(args[0]));
            Path partial = Files.createTempFile(dir, "libjnidispatch", ".part");
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            Files.move(partial, dir.resolve("libjnidispatch.so"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
