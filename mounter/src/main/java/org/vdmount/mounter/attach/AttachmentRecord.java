package org.vdmount.mounter.attach;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * What is known about one attachment, kept in /run/vdmount/&lt;id&gt;.attachment as a properties
 * file: readable by people and shell scripts, and by every later vdmount (detach, list).
 *
 * @param pid    the server process, or 0 while it is starting
 * @param log    the server's log file, or "" when it logs to a terminal (--foreground)
 * @param state  the transport's own keys (e.g. the FUSE mount point), passed back to its detach
 */
public record AttachmentRecord(int id, String image, String transport, String mode, long pid, String log,
        List<AttachedDevice> devices, Map<String, String> state) {

    /** The record of an id that is claimed but not yet attached. */
    static AttachmentRecord starting(int id, long pid, String transport) {
        return new AttachmentRecord(id, "", transport, "starting", pid, "", List.of(), Map.of());
    }

    /** The overlay file this attachment writes to, or null when it writes nowhere or to the image itself. */
    public Path overlay() {
        return mode.startsWith(AttachOptions.OVERLAY_MODE) ? Path.of(mode.substring(AttachOptions.OVERLAY_MODE.length()))
                : null;
    }

    public boolean starting() {
        return image.isEmpty();
    }

    /** Whether the server process still runs. */
    public boolean serverAlive() {
        return pid > 0 && ProcessHandle.of(pid).map(AttachmentRecord::isOurServer).orElse(false);
    }

    /**
     * Whether {@code p} looks like a vdmount server rather than an unrelated process that got the
     * pid after ours died; when the command line cannot be read, it is given the benefit of the doubt.
     */
    static boolean isOurServer(ProcessHandle p) {
        return p.isAlive() && !zombie(p.pid()) && p.info().arguments()
                .map(args -> String.join(" ", args).contains("vdmount"))
                .orElse(true);
    }

    /**
     * Whether the process has ended but not been reaped yet: Java counts a zombie as alive, and a
     * server killed under an init that reaps slowly is one for a while.
     */
    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    void writeTo(Path file) throws IOException {
        Properties p = new Properties();
        p.setProperty("image", image);
        p.setProperty("transport", transport);
        p.setProperty("mode", mode);
        p.setProperty("pid", Long.toString(pid));
        p.setProperty("log", log);
        p.setProperty("devices", Integer.toString(devices.size()));
        for (int i = 0; i < devices.size(); i++) {
            AttachedDevice d = devices.get(i);
            p.setProperty("device." + i + ".path", d.path());
            p.setProperty("device." + i + ".size", Long.toString(d.size()));
            p.setProperty("device." + i + ".name", d.name());
            p.setProperty("device." + i + ".label", d.label());
        }
        state.forEach((k, v) -> p.setProperty("transport." + k, v));
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "vdmount attachment " + id);
        }
    }

    static AttachmentRecord read(int id, Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        if (p.getProperty("image", "").isEmpty()) {
            long pid = 0;
            try {
                pid = Long.parseLong(p.getProperty("pid", "0"));
            } catch (NumberFormatException e) {
                // an id claimed a moment ago: no pid yet
            }
            return starting(id, pid, p.getProperty("transport", ""));
        }
        try {
            List<AttachedDevice> devices = new ArrayList<>();
            int count = Integer.parseInt(p.getProperty("devices", "0"));
            for (int i = 0; i < count; i++) {
                devices.add(new AttachedDevice(p.getProperty("device." + i + ".path"),
                        Long.parseLong(p.getProperty("device." + i + ".size")),
                        p.getProperty("device." + i + ".name"),
                        p.getProperty("device." + i + ".label", "")));
            }
            Map<String, String> state = new LinkedHashMap<>();
            for (String key : p.stringPropertyNames()) {
                if (key.startsWith("transport.")) {
                    state.put(key.substring("transport.".length()), p.getProperty(key));
                }
            }
            return new AttachmentRecord(id, p.getProperty("image"), p.getProperty("transport", ""),
                    p.getProperty("mode", ""), Long.parseLong(p.getProperty("pid", "0")), p.getProperty("log", ""),
                    devices, state);
        } catch (RuntimeException e) {
            throw new IOException(file + ": damaged attachment record (" + e.getMessage() + ")");
        }
    }
}
