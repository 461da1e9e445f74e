package org.vdmount.formats.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What {@code qemu-img map --output=json} says of an image: which ranges its own layer holds. */
public final class QemuMap {
    private static final Pattern ENTRY = Pattern.compile(
            "\\{ *\"start\": *(\\d+), *\"length\": *(\\d+), *\"depth\": *(\\d+)[^}]*\"data\": *(true|false)");

    /** A range and whether the top layer (depth 0) holds data there. */
    public record Range(long start, long length, boolean data) {
        public long end() {
            return start + length;
        }
    }

    private QemuMap() {
    }

    /** The ranges where the top layer of {@code image} (read as {@code format}) holds data. */
    public static List<Range> dataOfTopLayer(Path image, String format) throws IOException, InterruptedException {
        String json = TestImages.qemuImg(image.getParent(), "map", "--output=json", "-f", format, image.toString());
        List<Range> out = new ArrayList<>();
        Matcher m = ENTRY.matcher(json);
        while (m.find()) {
            if (Integer.parseInt(m.group(3)) == 0 && m.group(4).equals("true")) {
                out.add(new Range(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), true));
            }
        }
        return out;
    }
}
