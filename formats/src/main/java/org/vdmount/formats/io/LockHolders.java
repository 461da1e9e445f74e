package org.vdmount.formats.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Names the processes that hold a lock byte of a file, for the message that refuses the file.
 * The kernel shows OFD locks in /proc/locks with pid -1, so the holder is found the way lslocks
 * does it: through every process's descriptors (/proc/PID/fd, the same file) and the locks each
 * descriptor holds (the "lock:" lines of /proc/PID/fdinfo/FD). Done only when a lock refuses,
 * and bounded; processes this one may not look into (another user's, without root) stay unnamed.
 */
final class LockHolders {
    /** Descriptors looked at, at most: the search is for a message, not worth more than a moment. */
    private static final int MAX_DESCRIPTORS = 200_000;

    private LockHolders() {
    }

    /**
     * Who holds a lock on byte {@code offset} of {@code path}, other than this process's
     * descriptor {@code ownFd}: "qemu-io (pid 123)", or "another process (qemu or vdmount)" when
     * it cannot be found.
     */
    static String describe(Path path, int offset, int ownFd) {
        List<String> holders = new ArrayList<>();
        try {
            holders = find(path, offset, ownFd);
        } catch (IOException | RuntimeException e) {
            // unnamed, then
        }
        if (holders.isEmpty()) {
            return "another process (qemu or vdmount)";
        }
        return holders.get(0) + (holders.size() > 1 ? " and " + (holders.size() - 1) + " more" : "");
    }

    private static List<String> find(Path path, int offset, int ownFd) throws IOException {
        Object file = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        long self = ProcessHandle.current().pid();
        List<String> holders = new ArrayList<>();
        int seen = 0;
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), p -> isNumber(p))) {
            for (Path process : processes) {
                long pid = Long.parseLong(process.getFileName().toString());
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
                    for (Path fd : fds) {
                        if (++seen > MAX_DESCRIPTORS) {
                            return holders;
                        }
                        String number = fd.getFileName().toString();
                        if (pid == self && number.equals(Integer.toString(ownFd))) {
                            continue;
                        }
                        if (sameFile(fd, file) && holdsByte(process.resolve("fdinfo").resolve(number), offset)) {
                            String name = name(process, pid == self);
                            if (!holders.contains(name)) {
                                holders.add(name);
                            }
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // gone, or not ours to look into
                }
            }
        }
        return holders;
    }

    private static boolean isNumber(Path p) {
        String s = p.getFileName().toString();
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static boolean sameFile(Path fd, Object file) {
        try {
            return file != null
                    && file.equals(Files.readAttributes(fd, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the descriptor's "lock:" lines (type, pid, dev:ino, start, end) cover {@code offset}. */
    private static boolean holdsByte(Path fdinfo, int offset) throws IOException {
        for (String line : Files.readAllLines(fdinfo, StandardCharsets.UTF_8)) {
            if (!line.startsWith("lock:")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length < 3) {
                continue;
            }
            String start = f[f.length - 2];
            String end = f[f.length - 1];
            try {
                long from = Long.parseLong(start);
                long to = end.equals("EOF") ? Long.MAX_VALUE : Long.parseLong(end);
                if (from <= offset && offset <= to) {
                    return true;
                }
            } catch (NumberFormatException e) {
                // not a line of this shape
            }
        }
        return false;
    }

    /** "qemu-io (pid 123)"; a Java process running vdmount is "vdmount", not "java". */
    private static String name(Path process, boolean self) {
        String pid = process.getFileName().toString();
        if (self) {
            return "this process (pid " + pid + "), which has it open already";
        }
        String name;
        try {
            String cmdline = Files.readString(process.resolve("cmdline"), StandardCharsets.UTF_8);
            String comm = Files.readString(process.resolve("comm"), StandardCharsets.UTF_8).trim();
            boolean java = comm.equals("java") || cmdline.startsWith("/") && cmdline.split("\0")[0].endsWith("/java");
            name = java && (cmdline.contains("org.vdmount") || cmdline.contains("vdmount.jar")) ? "vdmount" : comm;
        } catch (IOException | RuntimeException e) {
            name = "process";
        }
        return name + " (pid " + pid + ")";
    }
}
