package org.vdmount.mounter.transport.nbd;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What sysfs says about the nbd driver and its devices. The root is a parameter so tests can give
 * a fake tree; in use it is /sys.
 */
final class NbdSysfs {
    private static final Pattern DEVICE = Pattern.compile("nbd(\\d+)");

    private final Path root;

    NbdSysfs(Path root) {
        this.root = root;
    }

    static NbdSysfs system() {
        return new NbdSysfs(Path.of("/sys"));
    }

    /** Whether the driver is in the kernel now (loaded as a module, or built in with devices). */
    boolean loaded() {
        return Files.isDirectory(root.resolve("module/nbd")) || Files.isDirectory(block(0));
    }

    /** The driver's max_part: how many partitions each device may have; 0 means none at all. */
    OptionalInt maxPart() {
        return readInt(root.resolve("module/nbd/parameters/max_part"));
    }

    /** Every nbd device the driver made, by number. */
    List<Integer> devices() throws IOException {
        List<Integer> found = new ArrayList<>();
        Path blocks = root.resolve("block");
        if (!Files.isDirectory(blocks)) {
            return found;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(blocks, "nbd*")) {
            for (Path entry : entries) {
                Matcher m = DEVICE.matcher(entry.getFileName().toString());
                if (m.matches()) {
                    found.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        found.sort(null);
        return found;
    }

    /**
     * Devices that look free, lowest first: no serving process and no size. Only a hint: another
     * process may take one between this look and our claim, which NBD_SET_SOCK then refuses.
     */
    List<Integer> freeDevices() throws IOException {
        List<Integer> free = new ArrayList<>();
        for (int index : devices()) {
            if (servingTid(index).isEmpty() && readLong(block(index).resolve("size")) == 0) {
                free.add(index);
            }
        }
        return free;
    }

    /**
     * The thread the device is served by (the one in NBD_DO_IT), while the device has a
     * configuration; the file stays after that thread dies for as long as anyone has the device open.
     */
    OptionalInt servingTid(int index) {
        return readInt(block(index).resolve("pid"));
    }

    /** The device's size in 512-byte sectors as the kernel shows it (0 before it is set), or -1. */
    long sizeSectors(int index) {
        return readLong(block(index).resolve("size"));
    }

    /** The partition numbers the kernel made for the device (nbdNp1...). */
    List<Integer> partitions(int index) throws IOException {
        List<Integer> found = new ArrayList<>();
        Path disk = block(index);
        if (!Files.isDirectory(disk)) {
            return found;
        }
        String prefix = "nbd" + index + "p";
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(disk, prefix + "*")) {
            for (Path entry : entries) {
                String number = entry.getFileName().toString().substring(prefix.length());
                if (number.matches("\\d{1,4}")) {
                    found.add(Integer.parseInt(number));
                }
            }
        }
        found.sort(null);
        return found;
    }

    Path block(int index) {
        return root.resolve("block/nbd" + index);
    }

    private static OptionalInt readInt(Path file) {
        long value = readLong(file);
        return value < 0 || value > Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of((int) value);
    }

    /** The number in a sysfs file, or -1 when it is missing or not a number (it may vanish as we read). */
    private static long readLong(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
