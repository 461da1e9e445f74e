package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * The metadata region: its table of items, and the items a reader needs (file parameters, virtual
 * disk size, sector sizes, disk ID, parent locator). An unknown item marked required is refused:
 * the specification says a reader that does not know it must not read the disk.
 */
final class Metadata {
    static final long SIGNATURE = 0x617461646174656dL; // "metadata"
    static final int MAX_ENTRIES = 2047;
    static final UUID FILE_PARAMETERS = UUID.fromString("caa16737-fa36-4d43-b3b6-33f0aa44e76b");
    static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2fa54224-cd1b-4876-b211-5dbed83bf4b8");
    static final UUID VIRTUAL_DISK_ID = UUID.fromString("beca12ab-b2e6-4523-93ef-c309e000c746");
    static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141bf1d-a96f-4709-ba47-f233a8faab5f");
    static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("cda348c7-445d-4471-9cc9-e9885251c556");
    static final UUID PARENT_LOCATOR = UUID.fromString("a8d35f2d-b30b-454d-abf7-d3d84834ab0c");
    static final UUID VHDX_LOCATOR_TYPE = UUID.fromString("b04aefb7-d19e-4a81-b789-25b8e9445913");
    /** An item is at most 1 MiB, says the specification. */
    private static final int MAX_ITEM = 1 << 20;

    long blockSize;
    boolean leaveBlocksAllocated;
    boolean hasParent;
    long virtualSize;
    UUID diskId;
    long logicalSectorSize;
    long physicalSectorSize;
    /** The parent locator's key/value pairs, in file order; empty without a parent. */
    final Map<String, String> parentLocator = new LinkedHashMap<>();

    static Metadata read(Storage storage, RegionTable.Region region) throws IOException {
        String file = storage.name();
        ByteBuffer table = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        storage.readFully(table, region.offset());
        if (table.getLong(0) != SIGNATURE) {
            throw new ImageException(file, "no \"metadata\" table at offset " + region.offset());
        }
        int count = Short.toUnsignedInt(table.getShort(10));
        if (count > MAX_ENTRIES) {
            throw new ImageException(file, "metadata table has " + count + " entries (at most " + MAX_ENTRIES + ")");
        }
        Metadata m = new Metadata();
        Map<UUID, ByteBuffer> items = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int at = 32 + 32 * i;
            UUID id = Guids.read(table, at);
            long offset = Integer.toUnsignedLong(table.getInt(at + 16));
            long length = Integer.toUnsignedLong(table.getInt(at + 20));
            boolean required = (table.getInt(at + 24) & 4) != 0;
            boolean known = id.equals(FILE_PARAMETERS) || id.equals(VIRTUAL_DISK_SIZE) || id.equals(VIRTUAL_DISK_ID)
                    || id.equals(LOGICAL_SECTOR_SIZE) || id.equals(PHYSICAL_SECTOR_SIZE) || id.equals(PARENT_LOCATOR);
            if (!known) {
                if (required) {
                    throw new ImageException(file, "metadata item {" + id + "} is marked required, and vdmount does "
                            + "not know it");
                }
                continue;
            }
            if (length > MAX_ITEM || (length > 0 && offset < 64 * 1024) || offset + length > region.length()) {
                throw new ImageException(file, "metadata item {" + id + "} (" + length + " bytes at offset " + offset
                        + ") lies outside the " + region.length() + "-byte metadata region");
            }
            ByteBuffer item = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
            storage.readFully(item, region.offset() + offset);
            items.put(id, item.flip());
        }
        m.blockSize = unsigned(need(items, FILE_PARAMETERS, 8, file).getInt(0));
        int flags = items.get(FILE_PARAMETERS).getInt(4);
        m.leaveBlocksAllocated = (flags & 1) != 0;
        m.hasParent = (flags & 2) != 0;
        m.virtualSize = need(items, VIRTUAL_DISK_SIZE, 8, file).getLong(0);
        m.logicalSectorSize = unsigned(need(items, LOGICAL_SECTOR_SIZE, 4, file).getInt(0));
        m.physicalSectorSize = unsigned(need(items, PHYSICAL_SECTOR_SIZE, 4, file).getInt(0));
        ByteBuffer id = items.get(VIRTUAL_DISK_ID);
        m.diskId = id != null && id.remaining() >= 16 ? Guids.read(id, 0) : null;
        if (m.hasParent) {
            ByteBuffer locator = items.get(PARENT_LOCATOR);
            if (locator == null) {
                throw new ImageException(file, "is a differencing disk without a parent locator");
            }
            m.readParentLocator(locator, file);
        }
        return m;
    }

    private void readParentLocator(ByteBuffer b, String file) throws ImageException {
        if (b.remaining() < 20) {
            throw new ImageException(file, "parent locator is " + b.remaining() + " bytes, too short for its header");
        }
        UUID type = Guids.read(b, 0);
        if (!type.equals(VHDX_LOCATOR_TYPE)) {
            throw new ImageException(file, "parent locator of unknown type {" + type + "}");
        }
        int count = Short.toUnsignedInt(b.getShort(18));
        if (20 + 12L * count > b.remaining()) {
            throw new ImageException(file, "parent locator has " + count + " entries, more than its "
                    + b.remaining() + " bytes hold");
        }
        for (int i = 0; i < count; i++) {
            int at = 20 + 12 * i;
            String key = text(b, unsigned(b.getInt(at)), Short.toUnsignedInt(b.getShort(at + 8)), file);
            String value = text(b, unsigned(b.getInt(at + 4)), Short.toUnsignedInt(b.getShort(at + 10)), file);
            parentLocator.put(key, value);
        }
    }

    private static String text(ByteBuffer b, long offset, int length, String file) throws ImageException {
        if (offset + length > b.remaining()) {
            throw new ImageException(file, "parent locator entry (" + length + " bytes at " + offset
                    + ") lies outside the locator");
        }
        byte[] bytes = new byte[length];
        b.get((int) offset, bytes);
        return new String(bytes, StandardCharsets.UTF_16LE);
    }

    private static ByteBuffer need(Map<UUID, ByteBuffer> items, UUID id, int length, String file)
            throws ImageException {
        ByteBuffer item = items.get(id);
        if (item == null || item.remaining() < length) {
            throw new ImageException(file, "the metadata lacks the " + name(id) + " item");
        }
        return item;
    }

    private static String name(UUID id) {
        if (id.equals(FILE_PARAMETERS)) {
            return "file parameters";
        }
        if (id.equals(VIRTUAL_DISK_SIZE)) {
            return "virtual disk size";
        }
        return id.equals(LOGICAL_SECTOR_SIZE) ? "logical sector size" : "physical sector size";
    }

    private static long unsigned(int v) {
        return Integer.toUnsignedLong(v);
    }
}
