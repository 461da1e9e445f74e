package org.vdmount.formats.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.Text;

/**
 * The header extensions that follow the header inside the first cluster. Only the ones a reader
 * needs are kept; bitmaps and unknown extensions are skipped.
 */
final class HeaderExtensions {
    static final int END = 0;
    static final int BACKING_FORMAT = 0xe2792aca;
    static final int FEATURE_TABLE = 0x6803f857;
    static final int BITMAPS = 0x23852875;
    static final int ENCRYPTION = 0x0537be77;
    static final int DATA_FILE = 0x44415441;
    private static final int FEATURE_ENTRY = 48;

    String backingFormat;
    String dataFileName;
    boolean bitmaps;
    /** "type:bit" → the name the image gives the feature. */
    final Map<String, String> featureNames = new HashMap<>();

    static HeaderExtensions read(Storage storage, Qcow2Header header, long fileSize) throws IOException {
        HeaderExtensions ext = new HeaderExtensions();
        long start = header.headerLength();
        long end = Math.min(header.extensionsEnd(), fileSize);
        if (end <= start) {
            return ext;
        }
        // Bounded by the cluster size (at most 2 MiB), never by a value read from the file.
        ByteBuffer area = ByteBuffer.allocate((int) (end - start));
        storage.readFully(area, start);
        area.flip();
        String file = storage.name();
        while (area.remaining() >= 8) {
            int type = area.getInt();
            long length = Integer.toUnsignedLong(area.getInt());
            if (type == END) {
                break;
            }
            if (length > area.remaining()) {
                throw new ImageException(file, String.format(
                        "header extension 0x%08x is %d bytes long, more than the %d bytes left in the header cluster",
                        type, length, area.remaining()));
            }
            ByteBuffer data = area.slice(area.position(), (int) length);
            switch (type) {
                case BACKING_FORMAT -> ext.backingFormat = string(data);
                case DATA_FILE -> ext.dataFileName = string(data);
                case BITMAPS -> ext.bitmaps = true;
                case FEATURE_TABLE -> ext.readFeatureTable(data);
                default -> {
                    // Unknown extensions may be ignored, the spec says.
                }
            }
            long padded = (length + 7) & ~7L;
            area.position((int) Math.min(area.limit(), area.position() + padded));
        }
        return ext;
    }

    private void readFeatureTable(ByteBuffer data) {
        while (data.remaining() >= FEATURE_ENTRY) {
            int type = Byte.toUnsignedInt(data.get());
            int bit = Byte.toUnsignedInt(data.get());
            byte[] name = new byte[FEATURE_ENTRY - 2];
            data.get(name);
            int len = 0;
            while (len < name.length && name[len] != 0) {
                len++;
            }
            featureNames.put(type + ":" + bit, Text.printable(new String(name, 0, len, StandardCharsets.UTF_8)));
        }
    }

    /** The image's own name for a feature bit (type 0 incompatible, 1 compatible, 2 autoclear), or null. */
    String featureName(int type, int bit) {
        return featureNames.get(type + ":" + bit);
    }

    private static String string(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
