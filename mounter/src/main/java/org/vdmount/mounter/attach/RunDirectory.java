package org.vdmount.mounter.attach;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * /run/vdmount: one record file per attachment ({@code <id>.attachment}) and, for transports that
 * need one, a work directory {@code <id>/}. Lives in /run so a reboot forgets attachments, as it
 * forgets their devices. {@code VDMOUNT_RUN_DIR} moves it (tests, unprivileged experiments).
 */
public final class RunDirectory {
    static final String SUFFIX = ".attachment";
    private static final int MAX_ATTACHMENTS = 4096;

    private final Path root;

    public RunDirectory(Path root) {
        this.root = root;
    }

    public static RunDirectory standard() {
        String override = System.getenv("VDMOUNT_RUN_DIR");
        if (override == null || override.isEmpty()) {
            override = System.getProperty("vdmount.run.dir", "/run/vdmount");
        }
        return new RunDirectory(Path.of(override));
    }

    public Path root() {
        return root;
    }

    public Path recordFile(int id) {
        return root.resolve(id + SUFFIX);
    }

    /** The attachment's log: what its background server says while serving. */
    public Path logFile(int id) {
        return root.resolve(id + ".log");
    }

    public Path workDir(int id) {
        return root.resolve(Integer.toString(id));
    }

    /** Claims the lowest free id by creating its record file: creation is atomic, so two attaches never share one. */
    public int allocate() throws IOException {
        Files.createDirectories(root);
        for (int id = 0; id < MAX_ATTACHMENTS; id++) {
            if (Files.exists(workDir(id))) {
                continue; // a stale work directory (maybe still mounted): never reuse it
            }
            try {
                Files.createFile(recordFile(id));
                return id;
            } catch (FileAlreadyExistsException e) {
                // taken: try the next
            }
        }
        throw new IOException(root + ": no free attachment id (" + MAX_ATTACHMENTS + " in use?)");
    }

    /** Every attachment recorded, in id order; records being written right now appear as "starting". */
    public List<AttachmentRecord> list() throws IOException {
        List<AttachmentRecord> records = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return records;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root, "*" + SUFFIX)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                try {
                    int id = Integer.parseInt(name.substring(0, name.length() - SUFFIX.length()));
                    read(id).ifPresent(records::add);
                } catch (NumberFormatException e) {
                    // not ours
                }
            }
        }
        records.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return records;
    }

    public Optional<AttachmentRecord> read(int id) throws IOException {
        Path file = recordFile(id);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(AttachmentRecord.read(id, file));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Writes a record whole (temporary file + rename), so readers never see half of one. */
    public void write(AttachmentRecord record) throws IOException {
        Path tmp = root.resolve("." + record.id() + SUFFIX + ".tmp");
        record.writeTo(tmp);
        Files.move(tmp, recordFile(record.id()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    public void remove(int id) throws IOException {
        Files.deleteIfExists(recordFile(id));
    }
}
