package org.vdmount.formats;

/**
 * How to open an image.
 *
 * @param snapshot internal snapshot to read instead of the current state (name or id), or null
 * @param disk     which disk of a multi-disk container (an OVA) to open, counted from 1; 0 = the only one
 * @param writable whether the top image may be written (backing files never are)
 */
public record OpenOptions(String snapshot, int disk, boolean writable) {

    public static OpenOptions readOnly() {
        return new OpenOptions(null, 0, false);
    }

    public OpenOptions withSnapshot(String name) {
        return new OpenOptions(name, disk, writable);
    }

    public OpenOptions withDisk(int number) {
        return new OpenOptions(snapshot, number, writable);
    }
}
