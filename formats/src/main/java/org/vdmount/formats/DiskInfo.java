package org.vdmount.formats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code vdmount info} reports of one layer of a chain. Formats fill the common fields and put
 * the rest (version, feature bits, descriptor keys...) in {@link #details()}, in the order to show:
 * keys in lower case with dashes ("refcount-bits", "parent-uuid"), values typed (numbers as
 * {@link Long} or {@link Integer}, flags as {@link Boolean}, the rest as strings), so that
 * {@code --json} gives scripts numbers and booleans.
 */
public final class DiskInfo {
    private final String name;
    private final String format;
    private String subformat;
    private long virtualSize;
    private long fileSize = -1;
    private int clusterSize;
    private String compression;
    private final Map<String, Object> details = new LinkedHashMap<>();
    private final List<SnapshotInfo> snapshots = new ArrayList<>();
    private final List<String> files = new ArrayList<>();

    public DiskInfo(String name, String format) {
        this.name = name;
        this.format = format;
    }

    /** The image as the user (or the parent image) named it. */
    public String name() {
        return name;
    }

    /** Format name as probing found it: raw, qcow2, vmdk... */
    public String format() {
        return format;
    }

    /** A finer kind within the format: "v3" for qcow2, "monolithicSparse" for VMDK; may be null. */
    public String subformat() {
        return subformat;
    }

    public DiskInfo subformat(String value) {
        this.subformat = value;
        return this;
    }

    public long virtualSize() {
        return virtualSize;
    }

    public DiskInfo virtualSize(long value) {
        this.virtualSize = value;
        return this;
    }

    /** Bytes the image occupies in its file(s); -1 when unknown. */
    public long fileSize() {
        return fileSize;
    }

    public DiskInfo fileSize(long value) {
        this.fileSize = value;
        return this;
    }

    /** Allocation unit (cluster, grain) in bytes; 0 when the format has none. */
    public int clusterSize() {
        return clusterSize;
    }

    public DiskInfo clusterSize(int value) {
        this.clusterSize = value;
        return this;
    }

    /** Compression the image uses or may use ("deflate", "zstd"); null for none. */
    public String compression() {
        return compression;
    }

    public DiskInfo compression(String value) {
        this.compression = value;
        return this;
    }

    public Map<String, Object> details() {
        return details;
    }

    /** Adds a detail; a null value is left out. Strings, numbers and booleans only. */
    public DiskInfo detail(String key, Object value) {
        if (value != null) {
            details.put(key, value instanceof Number || value instanceof Boolean ? value : value.toString());
        }
        return this;
    }

    /**
     * A key as the image's own file writes it ("parentCID", "ddb.virtualHWVersion") in the key style
     * of {@link #details()}: "parent-cid", "ddb.virtual-hw-version".
     */
    public static String key(String written) {
        StringBuilder out = new StringBuilder(written.length() + 4);
        for (int i = 0; i < written.length(); i++) {
            char c = written.charAt(i);
            char before = i > 0 ? written.charAt(i - 1) : '.';
            char after = i + 1 < written.length() ? written.charAt(i + 1) : '.';
            boolean upper = Character.isUpperCase(c);
            // A word starts at an upper-case letter after a lower-case one ("parentCID" -> parent-cid),
            // or at the last capital of a run followed by lower case ("HWVersion" -> hw-version).
            if (upper && before != '.' && before != '-' && before != '_'
                    && (Character.isLowerCase(before) || Character.isDigit(before)
                    || (Character.isUpperCase(before) && Character.isLowerCase(after)))) {
                out.append('-');
            }
            out.append(c == '_' || c == ' ' ? '-' : Character.toLowerCase(c));
        }
        return out.toString();
    }

    public List<SnapshotInfo> snapshots() {
        return snapshots;
    }

    /** Every file this layer reads (descriptor, extents, external data file), in order. */
    public List<String> files() {
        return files;
    }
}
