package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.SnapshotInfo;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.Text;

/** The internal snapshot directory: variable-length entries, read with every length checked. */
final class SnapshotTable {
    /** qemu's limits: more snapshots or a larger table is a damaged or hostile image. */
    static final long MAX_SNAPSHOTS = 65536;
    static final long MAX_TABLE_BYTES = 64L << 20;
    static final int MAX_EXTRA_DATA = 1024;
    private static final int FIXED_PART = 40;

    /** One snapshot: its L1 table, the disk size it had, and what info shows. */
    record Entry(String id, String name, long l1Offset, long l1Size, long diskSize, long vmStateSize,
            Instant created, long vmClockNanos) {

        SnapshotInfo info() {
            return new SnapshotInfo(id, name, diskSize, vmStateSize, created, vmClockNanos);
        }
    }

    private SnapshotTable() {
    }

    static List<Entry> read(Storage storage, Qcow2Header header, long fileSize) throws IOException {
        String file = storage.name();
        long count = header.snapshotCount();
        if (count == 0) {
            return List.of();
        }
        if (count > MAX_SNAPSHOTS) {
            throw new ImageException(file, "snapshot count " + count + " is larger than the limit of " + MAX_SNAPSHOTS);
        }
        long offset = header.snapshotsOffset();
        if (offset < 0 || offset >= fileSize || (offset & (header.clusterSize() - 1)) != 0) {
            throw new ImageException(file, "snapshot table offset " + Long.toUnsignedString(offset)
                    + " is invalid (unaligned or past the end of the " + fileSize + "-byte file)");
        }
        // Entries are read one by one, each length checked against the file and qemu's table limit,
        // so a huge count in a small file fails fast instead of allocating.
        long end = Math.min(fileSize, offset + MAX_TABLE_BYTES);
        long at = offset;
        ByteBuffer fixed = ByteBuffer.allocate(FIXED_PART);
        List<Entry> entries = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            if (end - at < FIXED_PART) {
                throw truncated(file, i, count);
            }
            fixed.clear();
            storage.readFully(fixed, at);
            long l1Offset = fixed.getLong(0);
            long l1Size = Integer.toUnsignedLong(fixed.getInt(8));
            int idLength = Short.toUnsignedInt(fixed.getShort(12));
            int nameLength = Short.toUnsignedInt(fixed.getShort(14));
            long seconds = Integer.toUnsignedLong(fixed.getInt(16));
            long nanos = Integer.toUnsignedLong(fixed.getInt(20));
            long vmClock = fixed.getLong(24);
            long vmState = Integer.toUnsignedLong(fixed.getInt(32));
            long extraLength = Integer.toUnsignedLong(fixed.getInt(36));
            if (extraLength > MAX_EXTRA_DATA) {
                throw new ImageException(file, "snapshot " + (i + 1) + " has " + extraLength
                        + " bytes of extra data (limit " + MAX_EXTRA_DATA + ")");
            }
            int variableLength = (int) extraLength + idLength + nameLength;
            if (end - at - FIXED_PART < variableLength) {
                throw truncated(file, i, count);
            }
            ByteBuffer variable = ByteBuffer.allocate(variableLength);
            storage.readFully(variable, at + FIXED_PART);
            long diskSize = header.size();
            if (extraLength >= 8) {
                vmState = variable.getLong(0);
            }
            if (extraLength >= 16) {
                diskSize = variable.getLong(8);
            }
            String id = text(variable, (int) extraLength, idLength);
            String name = text(variable, (int) extraLength + idLength, nameLength);
            if (diskSize < 0) {
                throw new ImageException(file, "snapshot '" + name + "' has an invalid disk size");
            }
            entries.add(new Entry(id, name, l1Offset, l1Size, diskSize, vmState,
                    Instant.ofEpochSecond(seconds, Math.min(nanos, 999_999_999L)), vmClock));
            at += (FIXED_PART + variableLength + 7) & ~7L;
        }
        return entries;
    }

    private static ImageException truncated(String file, long index, long count) {
        return new ImageException(file, "snapshot table is truncated at entry " + (index + 1) + " of " + count);
    }

    private static String text(ByteBuffer table, int at, int length) {
        byte[] bytes = new byte[length];
        table.get(at, bytes);
        return Text.printable(new String(bytes, StandardCharsets.UTF_8));
    }
}
