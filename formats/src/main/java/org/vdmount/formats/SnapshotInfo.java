package org.vdmount.formats;

import java.time.Instant;

/**
 * An internal snapshot of an image.
 *
 * @param id           the format's identifier ("1", "2", ...)
 * @param name         the user's name for it
 * @param virtualSize  virtual disk size at the snapshot, bytes
 * @param vmStateSize  saved VM state, bytes (0 for disk-only snapshots)
 * @param created      when it was taken
 * @param vmClockNanos guest clock at the snapshot, nanoseconds
 */
public record SnapshotInfo(String id, String name, long virtualSize, long vmStateSize, Instant created,
        long vmClockNanos) {
}
