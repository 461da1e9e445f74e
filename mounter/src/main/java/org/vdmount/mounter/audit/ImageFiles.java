package org.vdmount.mounter.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vdmount.formats.VirtualDisk;

/**
 * The files an opened disk reads (every segment, extent, backing file and overlay, as each layer's
 * info lists them), each with its size, modification time and a digest cheap enough to take at
 * every attach: the SHA-256 of its first MiB followed by its last MiB (the whole file when it is
 * 2 MiB or less, so {@code sha256sum} gives the same). It shows an image was not swapped or
 * rewritten between two records; the full hash is {@code vdmount verify}'s job.
 */
public final class ImageFiles {
    static final int EDGE = 1 << 20;

    private ImageFiles() {
    }

    /** Every file of every layer of {@code disk}, in order, each once, described. */
    public static List<Map<String, Object>> of(VirtualDisk disk) {
        return describe(paths(disk));
    }

    /** Every file of every layer of {@code disk}, in order, each once. */
    public static List<Path> paths(VirtualDisk disk) {
        Set<Path> files = new LinkedHashSet<>();
        for (VirtualDisk layer = disk; layer != null; layer = layer.backing().orElse(null)) {
            for (String name : layer.info().files()) {
                files.add(Path.of(name).toAbsolutePath().normalize());
            }
        }
        return List.copyOf(files);
    }

    public static List<Map<String, Object>> describe(List<Path> files) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Path f : files) {
            out.add(describe(f));
        }
        return out;
    }

    /** Path, size, mtime and edge digest of one file; an "error" field instead when it cannot be read. */
    public static Map<String, Object> describe(Path file) {
        Map<String, Object> out = new LinkedHashMap<>();
        Path path = file.toAbsolutePath().normalize();
        out.put("path", path.toString());
        try {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            out.put("mtime", attrs.lastModifiedTime().toInstant().toString());
            if (!attrs.isRegularFile()) {
                out.put("type", attrs.isOther() ? "device" : "other"); // no size to take the edges from
                return out;
            }
            out.put("size", attrs.size());
            out.put("edge-sha256", edgeDigest(path, attrs.size()));
        } catch (IOException e) {
            out.put("error", e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
        return out;
    }

    /** SHA-256 of the first MiB and then the last MiB, never a byte twice. */
    static String edgeDigest(Path file, long size) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long head = Math.min(size, EDGE);
            long tailStart = Math.max(head, size - EDGE);
            digest(in, file, sha256, 0, head);
            digest(in, file, sha256, tailStart, size - tailStart);
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static void digest(FileChannel in, Path file, MessageDigest sha256, long offset, long length)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) length);
        while (buf.hasRemaining()) {
            if (in.read(buf, offset + buf.position()) < 0) {
                throw new IOException(file + ": shrank while being read");
            }
        }
        sha256.update(buf.flip());
    }
}
