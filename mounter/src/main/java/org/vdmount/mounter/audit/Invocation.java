package org.vdmount.mounter.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who ran vdmount, and how: the user's own command line, which a background server (started with
 * internal arguments) is told by its launcher, so that its records name what the user typed.
 */
public final class Invocation {
    private static volatile List<String> arguments = List.of();

    private Invocation() {
    }

    /** Remembers the arguments vdmount was started with (as typed, before any rewriting). */
    public static void arguments(List<String> args) {
        arguments = List.copyOf(args);
    }

    public static List<String> arguments() {
        return arguments;
    }

    /**
     * Arguments as one word that no parser takes for an option: base64 of the arguments joined by
     * NUL (which no argument can hold), so any argument, "-" or newline included, goes through.
     */
    public static String encode(List<String> args) {
        return Base64.getEncoder().encodeToString(String.join("\0", args).getBytes(StandardCharsets.UTF_8));
    }

    public static List<String> decode(String encoded) {
        if (encoded.isEmpty()) {
            return List.of();
        }
        String joined = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        return List.of(joined.split("\0", -1));
    }

    /** The command line as a list: "vdmount" and the arguments, unquoted, exactly as received. */
    static List<String> commandLine() {
        List<String> line = new ArrayList<>();
        line.add("vdmount");
        line.addAll(arguments);
        return line;
    }

    /**
     * The user: uid and name of this process, and the user sudo was run by when it was (which is
     * who an examiner wants to know about when vdmount runs as root through sudo).
     */
    static Map<String, Object> user() {
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("uid", uid());
        user.put("name", System.getProperty("user.name"));
        String sudoUser = System.getenv("SUDO_USER");
        if (sudoUser != null && !sudoUser.isEmpty()) {
            user.put("sudo-user", sudoUser);
            String sudoUid = System.getenv("SUDO_UID");
            if (sudoUid != null && sudoUid.matches("\\d{1,10}")) {
                user.put("sudo-uid", Long.parseLong(sudoUid));
            }
        }
        return user;
    }

    /** The effective uid: /proc/self belongs to it. */
    private static long uid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
