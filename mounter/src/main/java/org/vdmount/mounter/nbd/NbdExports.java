package org.vdmount.mounter.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The exports of one server, by name; the first is also the default export (the empty name). */
public final class NbdExports {
    private final List<NbdExport> exports;
    private final Map<String, NbdExport> byName = new LinkedHashMap<>();

    public NbdExports(List<NbdExport> exports) {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("no exports");
        }
        this.exports = List.copyOf(exports);
        for (NbdExport export : exports) {
            if (byName.putIfAbsent(export.name(), export) != null) {
                throw new IllegalArgumentException("two exports are named '" + export.name() + "'");
            }
        }
        byName.putIfAbsent("", exports.get(0));
    }

    public List<NbdExport> all() {
        return exports;
    }

    /** The export called {@code name}, or null. */
    NbdExport find(String name) {
        return byName.get(name);
    }
}
