package org.vdmount.mounter.transport.abuse;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Finds a device whose server died: the module keeps each device's backing description in sysfs,
 * so a new server for the same image can take over the device and the requests queued on it.
 */
final class OrphanFinder {
    private static final Path SYS_BLOCK = Path.of("/sys/block");

    private OrphanFinder() {
    }

    /** The index of a device described as {@code backing} that has no server now, if any. */
    static OptionalInt find(AbuseControl control, String backing) throws IOException {
        if (!Files.isDirectory(SYS_BLOCK)) {
            return OptionalInt.empty();
        }
        try (DirectoryStream<Path> disks = Files.newDirectoryStream(SYS_BLOCK, AbuseAbi.DISK_PREFIX + "*")) {
            for (Path disk : disks) {
                Path text = disk.resolve("abuse/backing");
                if (!Files.isReadable(text) || !Files.readString(text).strip().equals(backing.strip())) {
                    continue;
                }
                int index;
                try {
                    index = Integer.parseInt(disk.getFileName().toString().substring(AbuseAbi.DISK_PREFIX.length()));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (control.status(index).servers() == 0) {
                    return OptionalInt.of(index);
                }
            }
        }
        return OptionalInt.empty();
    }
}
