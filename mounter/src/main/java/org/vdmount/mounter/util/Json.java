package org.vdmount.mounter.util;

import java.util.Collection;
import java.util.Map;

/**
 * A minimal JSON writer for --json output: maps (insertion order kept), collections, strings,
 * numbers, booleans and null. Enough for our reports, without another dependency.
 */
public final class Json {
    private Json() {
    }

    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.toString();
    }

    /** The same JSON on one line, without spaces: for JSON Lines files such as the audit log. */
    public static String line(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, -1);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, int indent) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof String s) {
            quote(out, s);
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Map<?, ?> map) {
            writeMap(out, map, indent);
        } else if (value instanceof Collection<?> list) {
            writeList(out, list, indent);
        } else {
            quote(out, value.toString());
        }
    }

    private static void writeMap(StringBuilder out, Map<?, ?> map, int indent) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        boolean compact = indent < 0;
        out.append(compact ? "{" : "{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            pad(out, indent + 1);
            quote(out, String.valueOf(e.getKey()));
            out.append(compact ? ":" : ": ");
            write(out, e.getValue(), compact ? indent : indent + 1);
            out.append(++i < map.size() ? (compact ? "," : ",\n") : (compact ? "" : "\n"));
        }
        pad(out, indent);
        out.append('}');
    }

    private static void writeList(StringBuilder out, Collection<?> list, int indent) {
        if (list.isEmpty()) {
            out.append("[]");
            return;
        }
        boolean compact = indent < 0;
        out.append(compact ? "[" : "[\n");
        int i = 0;
        for (Object item : list) {
            pad(out, indent + 1);
            write(out, item, compact ? indent : indent + 1);
            out.append(++i < list.size() ? (compact ? "," : ",\n") : (compact ? "" : "\n"));
        }
        pad(out, indent);
        out.append(']');
    }

    /** Indentation of a pretty-printed line; nothing when compact (indent below 0). */
    private static void pad(StringBuilder out, int indent) {
        out.append("  ".repeat(Math.max(0, indent)));
    }

    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
