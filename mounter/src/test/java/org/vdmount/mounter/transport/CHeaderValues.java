package org.vdmount.mounter.transport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.testing.TestImages;

/**
 * What a C header says, as a C compiler reads it: sizes and field offsets of structs and values of
 * constants, by name. The ABI tests compare the Java mirrors of kernel and module headers with it.
 */
public final class CHeaderValues {
    private final List<String> includes = new ArrayList<>(List.of("<stdio.h>", "<stddef.h>"));
    private final Map<String, String> expressions = new LinkedHashMap<>();

    /** A system header ({@code "<linux/ioctl.h>"}) or a header file by its path. */
    public CHeaderValues include(String systemHeader) {
        includes.add(systemHeader);
        return this;
    }

    public CHeaderValues include(Path header) {
        includes.add("\"" + header.toAbsolutePath() + "\"");
        return this;
    }

    /** {@code sizeof(struct S)}, named S. */
    public CHeaderValues size(String struct) {
        return value(struct, "sizeof(struct " + struct + ")");
    }

    /** {@code offsetof(struct S, F)} of each field, named S.F. */
    public CHeaderValues offsets(String struct, String... fields) {
        for (String f : fields) {
            value(struct + "." + f, "offsetof(struct " + struct + ", " + f + ")");
        }
        return this;
    }

    /** A macro or enum constant, named as itself. */
    public CHeaderValues constant(String name) {
        return value(name, name);
    }

    public CHeaderValues value(String name, String expression) {
        expressions.put(name, expression);
        return this;
    }

    /** Compiles and runs the program in {@code dir}; every value is printed as a signed 64-bit number. */
    public Map<String, Long> read(Path dir) throws Exception {
        StringBuilder c = new StringBuilder();
        for (String h : includes) {
            c.append("#include ").append(h).append('\n');
        }
        c.append("int main(void) {\n");
        for (Map.Entry<String, String> e : expressions.entrySet()) {
            c.append("printf(\"%s=%lld\\n\", \"").append(e.getKey()).append("\", (long long)(")
                    .append(e.getValue()).append("));\n");
        }
        c.append("return 0;\n}\n");
        Path src = dir.resolve("abi.c");
        Files.writeString(src, c);
        TestImages.run(dir, "cc", "-Wall", "-o", dir.resolve("abi").toString(), src.toString());
        Map<String, Long> values = new HashMap<>();
        for (String line : TestImages.run(dir, dir.resolve("abi").toString()).split("\n")) {
            String[] kv = line.split("=");
            values.put(kv[0], Long.parseLong(kv[1]));
        }
        return values;
    }
}
