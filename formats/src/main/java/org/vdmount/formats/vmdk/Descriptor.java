package org.vdmount.formats.vmdk;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.vdmount.formats.ImageException;

/**
 * A parsed VMDK text descriptor: header keys (version, CID, parentCID, createType,
 * parentFileNameHint, encoding...), extent lines and the {@code ddb.*} disk database.
 */
final class Descriptor {
    /** Real descriptors are a few hundred bytes to a few KiB; a larger one is hostile or not one. */
    static final int MAX_BYTES = 1 << 20;
    /** A 62 TiB disk split in 2 GiB extents has about 31,000 extents. */
    static final int MAX_EXTENTS = 32_768;
    /** No extent, and no disk, may be larger than this (in sectors): 2^54 bytes = 16 PiB. */
    static final long MAX_SECTORS = 1L << 45;
    static final long NO_PARENT = 0xffffffffL;

    private final Map<String, String> keys;
    private final Map<String, String> ddb;
    private final List<ExtentLine> extents;
    private final String encoding;

    private Descriptor(Map<String, String> keys, Map<String, String> ddb, List<ExtentLine> extents, String encoding) {
        this.keys = keys;
        this.ddb = ddb;
        this.extents = extents;
        this.encoding = encoding;
    }

    /** Header keys in file order, as written (quotes removed). */
    Map<String, String> keys() {
        return Collections.unmodifiableMap(keys);
    }

    /** The disk database: ddb.adapterType, ddb.geometry.*, ddb.uuid, ddb.virtualHWVersion... */
    Map<String, String> ddb() {
        return Collections.unmodifiableMap(ddb);
    }

    List<ExtentLine> extents() {
        return Collections.unmodifiableList(extents);
    }

    String encoding() {
        return encoding;
    }

    String createType() {
        return keys.getOrDefault("createType", "");
    }

    String parentFileNameHint() {
        String hint = keys.get("parentFileNameHint");
        return hint == null || hint.isEmpty() ? null : hint;
    }

    /** A CID key as a number, or -1 when absent or not hexadecimal. */
    long cid(String key) {
        String value = keys.get(key);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim(), 16) & 0xffffffffL;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    long totalSectors() {
        long total = 0;
        for (ExtentLine e : extents) {
            total += e.sectors();
        }
        return total;
    }

    /**
     * The descriptor text {@code bytes[0, end)} with its CID replaced by a new random one of the
     * same number of hexadecimal digits (so the text keeps its length and is rewritten in place),
     * different from the old one and from the "no parent" values; every other byte unchanged. Null
     * when the text has no CID line with a hexadecimal value.
     */
    static byte[] withNewCid(byte[] bytes, int end, java.util.random.RandomGenerator random) {
        // ISO-8859-1 maps each byte to one char and back: the text's own encoding is untouched.
        String text = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
        int lineStart = 0;
        while (lineStart < text.length()) {
            int lineEnd = text.indexOf('\n', lineStart);
            lineEnd = lineEnd < 0 ? text.length() : lineEnd;
            String line = text.substring(lineStart, lineEnd);
            int eq = line.indexOf('=');
            if (eq > 0 && line.substring(0, eq).strip().equals("CID")) {
                int from = eq + 1;
                while (from < line.length() && (line.charAt(from) == ' ' || line.charAt(from) == '\t'
                        || line.charAt(from) == '"')) {
                    from++;
                }
                int to = from;
                while (to < line.length() && Character.digit(line.charAt(to), 16) >= 0) {
                    to++;
                }
                int digits = to - from;
                if (digits == 0 || digits > 8) {
                    return null;
                }
                long old = Long.parseLong(line.substring(from, to), 16);
                String fresh = newCid(old, digits, random);
                byte[] out = bytes.clone();
                byte[] hex = fresh.getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(hex, 0, out, lineStart + from, digits);
                return out;
            }
            lineStart = lineEnd + 1;
        }
        return null;
    }

    /** A random CID of {@code digits} hex digits (no leading zero), not {@code old}, not ffffffff/fffffffe. */
    private static String newCid(long old, int digits, java.util.random.RandomGenerator random) {
        long low = digits == 1 ? 0 : 1L << (4 * (digits - 1));
        long high = 1L << (4 * digits);
        while (true) {
            long cid = low + random.nextLong(high - low);
            if (cid != old && cid != NO_PARENT && cid != NO_PARENT - 1) {
                return Long.toHexString(cid);
            }
        }
    }

    /** Whether an embedded descriptor area is empty (the extents of a split sparse disk reserve one). */
    static boolean blank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0 && b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses descriptor bytes. The descriptor ends at the first NUL, as a C string: qemu rewrites
     * the CID in place in a sector-sized buffer, so a shorter rewrite leaves the old tail after it.
     */
    static Descriptor parse(byte[] bytes, String file) throws ImageException {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        String encoding = findEncoding(bytes, end);
        String text = decode(bytes, end, encoding, file);
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        Map<String, String> keys = new LinkedHashMap<>();
        Map<String, String> ddb = new LinkedHashMap<>();
        List<ExtentLine> extents = new ArrayList<>();
        long total = 0;
        String[] lines = text.split("\r\n|\n|\r", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String first = firstWord(line).toUpperCase(Locale.ROOT);
            if (first.equals("RW") || first.equals("RDONLY") || first.equals("NOACCESS")) {
                if (extents.size() >= MAX_EXTENTS) {
                    throw new ImageException(file, "descriptor has more than " + MAX_EXTENTS + " extent lines");
                }
                ExtentLine extent = parseExtent(line, n + 1, file);
                total += extent.sectors();
                if (total > MAX_SECTORS) {
                    throw new ImageException(file, "extents add up to more than " + MAX_SECTORS
                            + " sectors (" + extent.cite() + ")");
                }
                extents.add(extent);
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue; // VMware ignores lines it does not know; so do we
            }
            String key = line.substring(0, eq).strip();
            String value = unquote(line.substring(eq + 1).strip());
            if (key.startsWith("ddb.")) {
                ddb.put(key, value);
            } else {
                keys.put(key, value);
            }
        }
        if (extents.isEmpty()) {
            throw new ImageException(file, "descriptor has no extent lines");
        }
        return new Descriptor(keys, ddb, extents, encoding);
    }

    private static ExtentLine parseExtent(String line, int number, String file) throws ImageException {
        String bad = "line " + number + ": " + line;
        int[] at = {0};
        String access = word(line, at).toUpperCase(Locale.ROOT);
        String sectorsWord = word(line, at);
        String type = ExtentLine.normalType(word(line, at));
        long sectors;
        try {
            sectors = Long.parseLong(sectorsWord);
        } catch (NumberFormatException e) {
            throw new ImageException(file, "bad sector count in extent " + bad);
        }
        if (sectors <= 0 || sectors > MAX_SECTORS) {
            throw new ImageException(file, "extent size out of range in " + bad);
        }
        switch (type) {
            case "FLAT", "SPARSE", "ZERO", "VMFS", "VMFSSPARSE", "SESPARSE", "VMFSRAW", "VMFSRDM",
                    "VMFSPASSTHROUGHRAW" -> {
            }
            case "" -> throw new ImageException(file, "extent type missing in " + bad);
            default -> throw new ImageException(file, "unknown extent type " + type + " in " + bad);
        }
        skipSpaces(line, at);
        String name = null;
        if (at[0] < line.length()) {
            if (line.charAt(at[0]) == '"') {
                int close = line.indexOf('"', at[0] + 1);
                if (close < 0) {
                    throw new ImageException(file, "unterminated file name in extent " + bad);
                }
                name = line.substring(at[0] + 1, close);
                at[0] = close + 1;
            } else {
                name = word(line, at);
            }
        }
        long offset = 0;
        String offsetWord = word(line, at);
        if (!offsetWord.isEmpty()) {
            try {
                offset = Long.parseLong(offsetWord);
            } catch (NumberFormatException e) {
                throw new ImageException(file, "bad offset in extent " + bad);
            }
            if (offset < 0 || offset > MAX_SECTORS) {
                throw new ImageException(file, "offset out of range in extent " + bad);
            }
        }
        // A missing or empty file name ("RW 10240 SPARSE \"\"", as FreeBSD's mkimg writes) is allowed
        // here: in an embedded descriptor the lone sparse extent is the file itself, whatever its
        // name. The opener refuses it when it has to open a file by that name.
        return new ExtentLine(access, sectors, type, name, offset, number, line);
    }

    private static String firstWord(String line) {
        int[] at = {0};
        return word(line, at);
    }

    private static String word(String line, int[] at) {
        skipSpaces(line, at);
        int start = at[0];
        while (at[0] < line.length() && !Character.isWhitespace(line.charAt(at[0]))) {
            at[0]++;
        }
        return line.substring(start, at[0]);
    }

    private static void skipSpaces(String line, int[] at) {
        while (at[0] < line.length() && Character.isWhitespace(line.charAt(at[0]))) {
            at[0]++;
        }
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }

    /** The encoding= line, read as ASCII before the text can be decoded. */
    private static String findEncoding(byte[] bytes, int end) {
        String ascii = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
        for (String line : ascii.split("\r\n|\n|\r")) {
            String l = line.strip();
            int eq = l.indexOf('=');
            if (eq > 0 && l.substring(0, eq).strip().equalsIgnoreCase("encoding")) {
                return unquote(l.substring(eq + 1).strip());
            }
        }
        return null;
    }

    /**
     * Decodes with the declared encoding; without one, UTF-8 when the bytes are valid UTF-8, else
     * windows-1252 (what Windows hosts wrote before VMware declared encodings).
     */
    private static String decode(byte[] bytes, int end, String encoding, String file) throws ImageException {
        if (encoding != null) {
            Charset charset;
            try {
                charset = Charset.forName(encoding);
            } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
                throw new ImageException(file, "descriptor encoding \"" + encoding + "\" is not supported");
            }
            return new String(bytes, 0, end, charset);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, end)).toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, 0, end, Charset.forName("windows-1252"));
        }
    }
}
