package org.vdmount.formats;

/**
 * How to open an image.
 *
 * @param snapshot internal snapshot to read instead of the current state (name or id), or null
 * @param disk     which disk of a multi-disk container (an OVA) to open, counted from 1; 0 = the only one
 * @param writable whether the top image may be written (backing files never are)
 * @param format   the top image's format by name ({@code --format}), or null to recognise it by content
 * @param forceShare whether to open the image's files without taking or checking their locks
 *                 ({@code --force-share}, qemu's {@code -U}): for reading only
 */
public record OpenOptions(String snapshot, int disk, boolean writable, String format, boolean forceShare) {

    public OpenOptions {
        if (writable && forceShare) {
            throw new IllegalArgumentException("force-share is for reading: a writer always locks the image");
        }
    }

    public OpenOptions(String snapshot, int disk, boolean writable, String format) {
        this(snapshot, disk, writable, format, false);
    }

    public OpenOptions(String snapshot, int disk, boolean writable) {
        this(snapshot, disk, writable, null);
    }

    public static OpenOptions readOnly() {
        return new OpenOptions(null, 0, false, null);
    }

    public OpenOptions withSnapshot(String name) {
        return new OpenOptions(name, disk, writable, format, forceShare);
    }

    public OpenOptions withDisk(int number) {
        return new OpenOptions(snapshot, number, writable, format, forceShare);
    }

    public OpenOptions withFormat(String name) {
        return new OpenOptions(snapshot, disk, writable, name, forceShare);
    }

    /** These options, opening the files without locks ({@code --force-share}); read-only only. */
    public OpenOptions withForceShare(boolean share) {
        return new OpenOptions(snapshot, disk, writable, format, share);
    }
}
