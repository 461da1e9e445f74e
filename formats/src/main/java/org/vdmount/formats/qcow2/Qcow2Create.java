package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.vdmount.formats.ImageException;

/**
 * Makes a new, empty qcow2 v3 image over a backing file, as {@code qemu-img create -f qcow2 -b
 * BACKING -F FORMAT} does (docs/interop/qcow2.txt): 64 KiB clusters, 16-bit refcounts, no
 * compression type, no extended L2. The file is the header cluster (header, the backing format
 * extension, the end marker and the backing file name), one refcount table cluster, one refcount
 * block and the L1 table, every one of those clusters counted once; nothing is allocated yet, so
 * every read falls through to the backing file.
 *
 * <p>The image is written to a temporary file beside the target, made durable, then renamed onto
 * the target: a crash leaves either no image or a whole one, never half a header.
 */
public final class Qcow2Create {
    static final int CLUSTER_BITS = 16;
    static final int CLUSTER_SIZE = 1 << CLUSTER_BITS;
    /** A v3 header with the compression type byte, padded to 8 bytes, as qemu writes it. */
    static final int HEADER_LENGTH = 112;
    static final int REFCOUNT_ORDER = 4;
    private static final long REFCOUNT_TABLE = CLUSTER_SIZE;
    private static final long REFCOUNT_BLOCK = 2L * CLUSTER_SIZE;
    private static final long L1_TABLE = 3L * CLUSTER_SIZE;
    /** One refcount block of 16-bit entries counts this many clusters: far more than the metadata needs. */
    private static final int BLOCK_ENTRIES = CLUSTER_SIZE / 2;

    private Qcow2Create() {
    }

    /**
     * Writes a new image at {@code target} (replacing any file there, whose permissions it keeps) of {@code virtualSize} bytes
     * whose backing file is {@code backingFile}, of format {@code backingFormat} as qemu names it.
     */
    public static void create(Path target, long virtualSize, String backingFile, String backingFormat)
            throws IOException {
        String name = target.toString();
        ByteBuffer image = layout(name, virtualSize, backingFile, backingFormat);
        try {
            write(target, image);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null ? fs.getReason()
                    : e.getMessage();
            throw new ImageException(name, "cannot write the new image: " + reason, e);
        }
    }

    private static void write(Path target, ByteBuffer image) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path temporary = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".new");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary); // with the umask's permissions, as qemu-img creates files
        try {
            if (Files.exists(target)) {
                // Replacing an image (emptying it): it keeps its permissions.
                Files.setPosixFilePermissions(temporary, Files.getPosixFilePermissions(target));
            }
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                while (image.hasRemaining()) {
                    out.write(image, image.position());
                }
                out.force(true);
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(dir);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The whole new image, every byte of it: a few clusters. */
    static ByteBuffer layout(String name, long virtualSize, String backingFile, String backingFormat)
            throws ImageException {
        if (virtualSize < 0 || virtualSize % 512 != 0) {
            throw new ImageException(name, "a qcow2 image's size must be a multiple of 512 bytes, not " + virtualSize);
        }
        long coverage = (long) CLUSTER_SIZE * (CLUSTER_SIZE / Long.BYTES); // one L2 table's worth
        long l1Entries = (virtualSize + coverage - 1) / coverage;
        if (l1Entries > Qcow2Opener.MAX_L1_ENTRIES) {
            throw new ImageException(name, "a disk of " + virtualSize + " bytes is too large for a qcow2 image "
                    + "with 64 KiB clusters");
        }
        int l1Clusters = (int) Math.max(1, (l1Entries * Long.BYTES + CLUSTER_SIZE - 1) / CLUSTER_SIZE);
        int clusters = 3 + l1Clusters;
        ByteBuffer image = ByteBuffer.allocate(clusters * CLUSTER_SIZE);

        byte[] backing = backingFile.getBytes(StandardCharsets.UTF_8);
        byte[] format = backingFormat.getBytes(StandardCharsets.UTF_8);
        if (backing.length == 0 || backing.length > Qcow2Opener.MAX_BACKING_NAME) {
            throw new ImageException(name, "backing file name of " + backing.length + " bytes (1 to "
                    + Qcow2Opener.MAX_BACKING_NAME + " allowed)");
        }
        // Header extensions: the backing format, padded to 8 bytes, then the end marker.
        int at = HEADER_LENGTH;
        image.putInt(at, HeaderExtensions.BACKING_FORMAT).putInt(at + 4, format.length);
        image.put(at + 8, format);
        at += 8 + ((format.length + 7) & ~7);
        image.putInt(at, HeaderExtensions.END).putInt(at + 4, 0);
        at += 8;
        int backingOffset = at;
        image.put(backingOffset, backing);

        image.putInt(0, Qcow2Header.MAGIC);
        image.putInt(4, 3);
        image.putLong(8, backingOffset);
        image.putInt(16, backing.length);
        image.putInt(20, CLUSTER_BITS);
        image.putLong(24, virtualSize);
        image.putInt(32, 0); // no encryption
        image.putInt(36, (int) l1Entries);
        image.putLong(40, L1_TABLE);
        image.putLong(48, REFCOUNT_TABLE);
        image.putInt(56, 1); // refcount table clusters
        image.putInt(60, 0); // snapshots
        image.putLong(64, 0);
        image.putLong(72, 0); // incompatible features
        image.putLong(80, 0); // compatible features
        image.putLong(88, 0); // autoclear features
        image.putInt(96, REFCOUNT_ORDER);
        image.putInt(100, HEADER_LENGTH);
        image.put(104, (byte) 0); // compression type: deflate

        // The refcount table points at the one block; the block counts every cluster of the file once.
        image.putLong((int) REFCOUNT_TABLE, REFCOUNT_BLOCK);
        if (clusters > BLOCK_ENTRIES) {
            throw new IllegalStateException("metadata outgrew one refcount block");
        }
        for (int c = 0; c < clusters; c++) {
            image.putShort((int) REFCOUNT_BLOCK + 2 * c, (short) 1);
        }
        return image.clear();
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Not every file system lets a directory be synced; the rename is still atomic.
        }
    }
}
