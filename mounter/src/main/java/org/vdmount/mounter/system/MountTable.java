package org.vdmount.mounter.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Who mounts what, from /proc/self/mountinfo: matched by device number, the only reliable key. */
public final class MountTable {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private MountTable() {
    }

    /** Mount points of file systems on block device {@code device} (e.g. /dev/loop3); empty if none. */
    public static List<String> mountPointsOf(String device) throws IOException {
        String number = deviceNumber(device);
        List<String> points = new ArrayList<>();
        if (number == null) {
            return points;
        }
        for (String line : Files.readAllLines(MOUNTINFO)) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[2].equals(number)) {
                points.add(unescape(f[4]));
            }
        }
        return points;
    }

    /** Whether something is mounted exactly at {@code path}. */
    public static boolean isMountPoint(Path path) throws IOException {
        String want = path.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(MOUNTINFO)) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(want)) {
                return true;
            }
        }
        return false;
    }

    /** "major:minor" of a block device node, from sysfs; null when it is not a block device we can see. */
    static String deviceNumber(String device) throws IOException {
        Path sys = Path.of("/sys/class/block", Path.of(device).getFileName().toString(), "dev");
        return Files.isReadable(sys) ? Files.readString(sys).strip() : null;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
