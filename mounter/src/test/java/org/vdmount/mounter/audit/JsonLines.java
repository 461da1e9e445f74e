package org.vdmount.mounter.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of the audit file for tests: every line must be one complete JSON object (so a
 * torn or interleaved line fails the test), parsed into maps, lists, strings, longs, booleans.
 */
public final class JsonLines {
    private final String s;
    private int i;

    private JsonLines(String s) {
        this.s = s;
    }

    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        String text = Files.readString(file);
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new AssertionError("the last line is not complete: " + text.substring(text.lastIndexOf('\n') + 1));
        }
        for (String line : text.lines().toList()) {
            out.add(parse(line));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parse(String line) {
        JsonLines p = new JsonLines(line);
        Object v = p.value();
        if (p.i != line.length() || !(v instanceof Map)) {
            throw new AssertionError("not one JSON object: " + line);
        }
        return (Map<String, Object>) v;
    }

    private Object value() {
        char c = s.charAt(i);
        switch (c) {
            case '{' -> {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    String key = string();
                    expect(':');
                    m.put(key, value());
                    if (s.charAt(i) == '}') {
                        i++;
                        return m;
                    }
                    expect(',');
                }
            }
            case '[' -> {
                List<Object> l = new ArrayList<>();
                i++;
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    if (s.charAt(i) == ']') {
                        i++;
                        return l;
                    }
                    expect(',');
                }
            }
            case '"' -> {
                return string();
            }
            default -> {
                int start = i;
                while (i < s.length() && ",}]".indexOf(s.charAt(i)) < 0) {
                    i++;
                }
                String word = s.substring(start, i);
                return switch (word) {
                    case "true" -> true;
                    case "false" -> false;
                    case "null" -> null;
                    default -> Long.parseLong(word);
                };
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c == '\\') {
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            } else {
                b.append(c);
            }
        }
    }

    private void expect(char c) {
        if (s.charAt(i) != c) {
            throw new AssertionError("expected '" + c + "' at " + i + " in " + s);
        }
        i++;
    }
}
