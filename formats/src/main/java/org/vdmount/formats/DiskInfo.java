package org.vdmount.formats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code vdmount info} reports of one layer of a chain. Formats fill the common fields and put
 * the rest (version, feature bits, descriptor keys...) in {@link #details()}, in the order to show.
 */
public final class DiskInfo {
    private final String name;
    private final String format;
    private String subformat;
    private long virtualSize;
    private long fileSize = -1;
    private int clusterSize;
    private String compression;
    private final Map<String, String> details = new LinkedHashMap<>();
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

    public Map<String, String> details() {
        return details;
    }

    public DiskInfo detail(String key, Object value) {
        details.put(key, String.valueOf(value));
        return this;
    }

    public List<SnapshotInfo> snapshots() {
        return snapshots;
    }

    /** Every file this layer reads (descriptor, extents, external data file), in order. */
    public List<String> files() {
        return files;
    }
}
