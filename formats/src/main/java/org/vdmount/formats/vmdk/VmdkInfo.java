package org.vdmount.formats.vmdk;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.VirtualDisk;

/** The {@link DiskInfo} of a VMDK layer. */
final class VmdkInfo {
    private VmdkInfo() {
    }

    /** What {@code vdmount info} shows: createType, header keys, extents with their own format, ddb.* keys. */
    static DiskInfo describe(String name, Descriptor descriptor, List<Extent> extents, List<ExtentLine> lines,
            VirtualDisk parent, Collection<String> files, long fileBytes) {
        long size = 0;
        for (Extent e : extents) {
            size += e.length();
        }
        String subformat = descriptor == null ? bareKind(extents.get(0)) : descriptor.createType();
        DiskInfo info = new DiskInfo(name, "vmdk").subformat(subformat).virtualSize(size).fileSize(fileBytes);
        for (Extent e : extents) {
            if (e.grainBytes() > 0) {
                info.clusterSize(e.grainBytes());
                break;
            }
        }
        for (Extent e : extents) {
            if (e.compressedGrains()) {
                info.compression("deflate");
                break;
            }
        }
        if (descriptor != null) {
            for (Map.Entry<String, String> k : descriptor.keys().entrySet()) {
                String key = DiskInfo.key(k.getKey());
                info.detail(key, key.equals("version") ? number(k.getValue()) : k.getValue());
            }
        }
        for (int i = 0; i < extents.size(); i++) {
            ExtentLine line = lines.get(i);
            String what = extents.get(i).describe();
            String text = line == null ? "" : line.text();
            info.detail("extent." + (i + 1), text + (what.isEmpty() ? "" : (text.isEmpty() ? "" : " ") + "(" + what + ")"));
        }
        if (descriptor != null) {
            for (Map.Entry<String, String> k : descriptor.ddb().entrySet()) {
                String key = DiskInfo.key(k.getKey());
                // Keys VMware always writes as decimal numbers; the others (content IDs in hex, UUIDs) stay text.
                boolean numeric = key.startsWith("ddb.geometry.") || key.equals("ddb.virtual-hw-version")
                        || key.equals("ddb.tools-version");
                info.detail(key, numeric ? number(k.getValue()) : k.getValue());
            }
        }
        if (parent != null) {
            info.detail("parent", parent.info().name());
        }
        info.files().addAll(files);
        return info;
    }

    /** A decimal number as a number, anything else as written. */
    private static Object number(String value) {
        return value.matches("0|[1-9][0-9]{0,17}") ? (Object) Long.parseLong(value) : value;
    }

    /** A sparse file opened on its own, without a descriptor. */
    private static String bareKind(Extent e) {
        if (e instanceof HostedSparseExtent || e instanceof ScannedStreamExtent) {
            return e.compressedGrains() ? "streamOptimized extent" : "sparse extent";
        }
        return e instanceof CowdExtent ? "vmfsSparse extent" : "seSparse extent";
    }
}
