package org.vdmount.mounter.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.Invocation;
import org.vdmount.mounter.util.UsageError;
import picocli.CommandLine.Option;

/**
 * The audit trail's options, the same on every command that records: attach, mount, detach, umount, verify,
 * commit, serve.
 */
final class AuditOptions {

    @Option(names = "--audit-log", paramLabel = "FILE",
            description = "Append this command's audit record to FILE (default: $VDMOUNT_AUDIT_LOG, else "
                    + "/var/log/vdmount/audit.jsonl).")
    Path file;

    @Option(names = "--no-audit", description = "Write no audit record.")
    boolean off;

    @Option(names = "--audit-required",
            description = "Fail when the audit record cannot be written (by default one warning on stderr, and the "
                    + "command goes on).")
    boolean required;

    /** The trail these options ask for; warnings of lost records go to {@code warn}. */
    AuditTrail trail(Consumer<String> warn) {
        if (off && (required || file != null)) {
            throw new UsageError("--no-audit contradicts " + (required ? "--audit-required" : "--audit-log"));
        }
        return off ? AuditTrail.off() : new AuditTrail(AuditTrail.location(file), required, warn);
    }

    /** A trail whose warnings go to stderr as one "vdmount: warning:" line. */
    AuditTrail trail() {
        return trail(w -> System.err.println("vdmount: warning: " + w));
    }

    /**
     * The same audit settings for a background attach server, and the user's own command line,
     * which the server's records name (its own command line is the launcher's).
     */
    List<String> serverArgs() {
        List<String> args = new ArrayList<>();
        AuditTrail trail = trail(w -> { });
        if (!trail.enabled()) {
            args.add("--no-audit");
        } else {
            args.add("--audit-log=" + trail.file().toAbsolutePath());
            if (required) {
                args.add("--audit-required");
            }
        }
        args.add(AttachCommand.AUDIT_COMMAND + "=" + Invocation.encode(Invocation.arguments()));
        return args;
    }
}
