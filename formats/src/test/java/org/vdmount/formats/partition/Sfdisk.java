package org.vdmount.formats.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vdmount.formats.testing.TestImages;

/** Makes partition tables with sfdisk and reads back what sfdisk says they hold. */
final class Sfdisk {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,\\s}]+)");

    /** One partition as {@code sfdisk --json} lists it, in 512-byte sectors. */
    record Listed(int number, long start, long size, String type, String uuid, String name, boolean bootable) {
    }

    private Sfdisk() {
    }

    /** A sparse raw file of {@code size} bytes partitioned by the sfdisk {@code script}. */
    static Path partition(Path dir, String fileName, long size, String script) throws Exception {
        Path image = dir.resolve(fileName);
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        Path scriptFile = dir.resolve(fileName + ".sfdisk");
        Files.writeString(scriptFile, script);
        TestImages.run(dir, "sh", "-c", "sfdisk -q --no-reread \"$1\" < \"$2\"", "sh", image.toString(),
                scriptFile.toString());
        return image;
    }

    /** The partitions of {@code image} as {@code sfdisk --json} lists them. */
    static List<Listed> list(Path image) throws Exception {
        String json = TestImages.run(image.getParent(), "sfdisk", "--json", image.toString());
        int from = json.indexOf("\"partitions\"");
        assertTrue(from >= 0, "sfdisk listed no partitions:\n" + json);
        List<Listed> listed = new ArrayList<>();
        String prefix = image.toString();
        for (String object : json.substring(from).split("}")) {
            Map<String, String> fields = fields(object);
            if (!fields.containsKey("node")) {
                continue;
            }
            String node = fields.get("node");
            assertTrue(node.startsWith(prefix), node);
            int number = Integer.parseInt(node.substring(prefix.length()).replaceFirst("^p", ""));
            listed.add(new Listed(number, Long.parseLong(fields.get("start")), Long.parseLong(fields.get("size")),
                    fields.get("type").toLowerCase(Locale.ROOT),
                    fields.containsKey("uuid") ? fields.get("uuid").toLowerCase(Locale.ROOT) : null,
                    fields.get("name"), "true".equals(fields.get("bootable"))));
        }
        return listed;
    }

    /** The table's disk identifier ("id"): a GPT disk GUID or the DOS label id. */
    static String id(Path image) throws Exception {
        String json = TestImages.run(image.getParent(), "sfdisk", "--json", image.toString());
        return fields(json.substring(0, json.indexOf("\"partitions\""))).get("id").toLowerCase(Locale.ROOT);
    }

    private static Map<String, String> fields(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(text);
        while (m.find()) {
            fields.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
        }
        return fields;
    }

    /** Asserts that our reading lists exactly what sfdisk lists, field by field. */
    static void assertSame(List<Listed> expected, PartitionTable table) {
        List<Partition> got = table.partitions();
        assertEquals(expected.size(), got.size(), "partitions: " + got);
        for (int i = 0; i < expected.size(); i++) {
            Listed want = expected.get(i);
            Partition p = got.get(i);
            String what = "partition " + want.number();
            assertEquals(want.number(), p.number(), what);
            assertEquals(want.start() * 512, p.start(), what + " start");
            assertEquals(want.size() * 512, p.size(), what + " size");
            if (table.scheme() == PartitionScheme.GPT) {
                assertEquals(want.type(), p.typeCode(), what + " type");
                assertEquals(want.uuid(), p.uuid(), what + " uuid");
                assertEquals(want.name(), p.name(), what + " name");
            } else {
                assertEquals(Integer.parseInt(want.type(), 16), Integer.decode(p.typeCode()), what + " type");
                assertEquals(want.bootable(), p.bootable(), what + " bootable");
            }
        }
    }
}
