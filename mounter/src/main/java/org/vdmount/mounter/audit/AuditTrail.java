package org.vdmount.mounter.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Consumer;
import org.vdmount.mounter.util.UserError;

/**
 * Where audit lines go, and what happens when they cannot.
 *
 * <p>Each line is appended with one {@code write(2)} on a descriptor opened {@code O_APPEND}, so
 * lines from commands running at the same time never interleave (Linux moves to the end and writes
 * under the inode's lock). The file is opened for each line rather than held open, so a log rotated
 * away (logrotate) is followed, and a short write is reported rather than completed by a second
 * write that another process's line could come between. A new file is made 0640 and a new
 * directory 0750: owned by whoever runs vdmount, which for attaching is root.
 *
 * <p>A line that cannot be written never goes unnoticed: the command says so in one line on
 * stderr. By default it then carries on (a full /var/log should not stop an examiner from reading
 * evidence); with {@code --audit-required} it fails instead, and a command that would change
 * something (an attach) checks the file can be written before it does anything.
 */
public final class AuditTrail {
    public static final Path DEFAULT = Path.of("/var/log/vdmount/audit.jsonl");
    public static final String ENVIRONMENT = "VDMOUNT_AUDIT_LOG";
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r-----");
    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwxr-x---");

    private final Path file;
    private final boolean required;
    private final Consumer<String> warn;

    /**
     * @param file     where lines go, or null when auditing is off (--no-audit)
     * @param required whether a line that cannot be written fails the command
     * @param warn     takes the one-line warning when a line is lost and not required
     */
    public AuditTrail(Path file, boolean required, Consumer<String> warn) {
        this.file = file;
        this.required = required;
        this.warn = warn;
    }

    /** The audit file: the option's, else $VDMOUNT_AUDIT_LOG's, else the vdmount.audit.log property's, else the default. */
    public static Path location(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv(ENVIRONMENT);
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        String property = System.getProperty("vdmount.audit.log");
        return property != null && !property.isEmpty() ? Path.of(property) : DEFAULT;
    }

    public static AuditTrail off() {
        return new AuditTrail(null, false, w -> { });
    }

    /** The same trail, its warnings going to {@code to} instead. */
    public AuditTrail warningsTo(Consumer<String> to) {
        return new AuditTrail(file, required, to);
    }

    public boolean enabled() {
        return file != null;
    }

    public Path file() {
        return file;
    }

    public boolean required() {
        return required;
    }

    /**
     * With --audit-required, fails now when the file cannot be opened for appending, before the
     * command does what would have to be recorded. Otherwise nothing: the record says it.
     */
    public void checkWritable() {
        if (file == null || !required) {
            return;
        }
        try (FileChannel ignored = open()) {
            // opened (and created if new): the record can be written
        } catch (IOException e) {
            throw new UserError(problem(e) + " (required by --audit-required): nothing was done");
        }
    }

    /**
     * Appends {@code entry}. When it cannot: with --audit-required a {@link UserError}, otherwise
     * one warning line, and the command goes on.
     */
    public void append(AuditEntry entry) {
        if (file == null) {
            return;
        }
        byte[] line = entry.line().getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = open()) {
            int written = out.write(ByteBuffer.wrap(line)); // FileChannel: one write(2) for the whole buffer
            if (written != line.length) {
                throw new IOException("short write (" + written + " of " + line.length + " bytes; file system full?)");
            }
        } catch (IOException e) {
            if (required) {
                throw new UserError(problem(e) + " (required by --audit-required)");
            }
            warn.accept(problem(e) + "; this " + entry.event() + " is not recorded");
        }
    }

    private String problem(IOException e) {
        String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                : e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null ? fs.getReason()
                : e.getMessage();
        return "cannot write the audit log " + file + ": " + reason;
    }

    private FileChannel open() throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir.getParent() == null ? dir : dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
            } catch (FileAlreadyExistsException raced) {
                // made by a command running at the same time
            }
        }
        return FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(FILE_MODE));
    }
}
