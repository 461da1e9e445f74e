package org.vdmount.mounter.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import org.vdmount.mounter.util.Json;

/**
 * One line of the audit trail: the fields every line has (time in UTC, event, user, command line,
 * working directory), then what the event adds. Keys are in lower case with dashes, as in
 * {@code --json} output.
 */
public final class AuditEntry {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    private AuditEntry(String event) {
        fields.put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
        fields.put("event", event);
        fields.put("user", Invocation.user());
        fields.put("command", Invocation.commandLine());
        fields.put("cwd", System.getProperty("user.dir"));
    }

    /** An entry for {@code event}: attach, detach, end (of an attachment's server), verify, commit, serve. */
    public static AuditEntry of(String event) {
        return new AuditEntry(event);
    }

    /** Adds a field; strings, numbers, booleans, lists and maps of them. A null value is left out. */
    public AuditEntry put(String key, Object value) {
        if (value != null) {
            fields.put(key, value);
        }
        return this;
    }

    String event() {
        return (String) fields.get("event");
    }

    /** The line as it is appended: compact JSON and a newline (JSON Lines). */
    String line() {
        return Json.line(fields) + "\n";
    }

    @Override
    public String toString() {
        return line();
    }
}
