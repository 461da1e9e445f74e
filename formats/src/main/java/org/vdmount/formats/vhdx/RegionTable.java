package org.vdmount.formats.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A 64 KiB region table (at 192 KiB, its copy at 256 KiB): where the BAT and the metadata are. */
record RegionTable(boolean valid, String problem, List<Region> regions) {
    static final int SIZE = 64 * 1024;
    static final int SIGNATURE = 0x69676572; // "regi"
    static final int MAX_ENTRIES = 2047;
    static final UUID BAT = UUID.fromString("2dc27766-f623-4200-9d64-115e9bfd4a08");
    static final UUID METADATA = UUID.fromString("8b7ca206-4790-4b9a-b8fe-575f050f886e");

    /** One region: what it is, where (bytes), how long, and whether a reader must know it. */
    record Region(UUID guid, long offset, long length, boolean required) {
        String describe() {
            return guid.equals(BAT) ? "BAT" : guid.equals(METADATA) ? "metadata" : "region {" + guid + "}";
        }
    }

    static RegionTable parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != SIGNATURE) {
            return new RegionTable(false, "no \"regi\" signature", List.of());
        }
        if (Checksums.crc32c(b, SIZE, 4) != Integer.toUnsignedLong(b.getInt(4))) {
            return new RegionTable(false, "CRC-32C mismatch", List.of());
        }
        long count = Integer.toUnsignedLong(b.getInt(8));
        if (count > MAX_ENTRIES) {
            return new RegionTable(false, count + " entries (at most " + MAX_ENTRIES + ")", List.of());
        }
        List<Region> regions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = 16 + 32 * i;
            regions.add(new Region(Guids.read(b, at), b.getLong(at + 16), Integer.toUnsignedLong(b.getInt(at + 24)),
                    (b.getInt(at + 28) & 1) != 0));
        }
        return new RegionTable(true, null, regions);
    }

    Region find(UUID guid) {
        for (Region r : regions) {
            if (r.guid().equals(guid)) {
                return r;
            }
        }
        return null;
    }
}
