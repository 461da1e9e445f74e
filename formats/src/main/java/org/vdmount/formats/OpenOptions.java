package org.vdmount.formats;

/**
 * How to open an image.
 *
 * @param snapshot internal snapshot to read instead of the current state (name or id), or null
 * @param disk     which disk of a multi-disk container (an OVA) to open, counted from 1; 0 = the only one
 * @param writable whether the top image may be written (backing files never are)
 * @param format   the top image's format by name ({@code --format}), or null to recognise it by content
 */
public record OpenOptions(String snapshot, int disk, boolean writable, String format) {

    public OpenOptions(String snapshot, int disk, boolean writable) {
        this(snapshot, disk, writable, null);
    }

    public static OpenOptions readOnly() {
        return new OpenOptions(null, 0, false, null);
    }

    public OpenOptions withSnapshot(String name) {
        return new OpenOptions(name, disk, writable, format);
    }

    public OpenOptions withDisk(int number) {
        return new OpenOptions(snapshot, number, writable, format);
    }

    public OpenOptions withFormat(String name) {
        return new OpenOptions(snapshot, disk, writable, name);
    }
}
