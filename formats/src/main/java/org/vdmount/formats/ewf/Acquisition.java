package org.vdmount.formats.ewf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.io.Text;

/**
 * What an EWF set records about its acquisition: the header2/header values (case, examiner,
 * dates...), the hashes computed while acquiring (hash and digest sections) and the sectors that
 * could not be read (error2). Kept for {@code info} and {@code verify}; never needed to read.
 */
public final class Acquisition {
    /** A header is a few hundred bytes; more than this decoded is not a header. */
    private static final int MAX_HEADER_BYTES = 1 << 20;

    /** The header values shown, in order, with the names {@code info} gives them. */
    private static final String[][] SHOWN = {
        {"c", "case-number"}, {"n", "evidence-number"}, {"e", "examiner"}, {"a", "description"},
        {"t", "notes"}, {"m", "acquisition-date"}, {"u", "system-date"}, {"av", "acquisition-software"},
        {"ov", "acquisition-system"}, {"md", "media-model"}, {"sn", "media-serial-number"}, {"l", "device-label"},
    };

    /** A stretch of sectors the acquiring tool could not read. */
    public record ErrorRange(long firstSector, long sectors) {
    }

    private final Map<String, String> values = new LinkedHashMap<>();
    private byte[] md5;
    private byte[] sha1;
    private final List<ErrorRange> errors = new ArrayList<>();

    /** The MD5 of the media recorded at acquisition, or null. */
    public byte[] md5() {
        return md5;
    }

    /** The SHA-1 of the media recorded at acquisition, or null. */
    public byte[] sha1() {
        return sha1;
    }

    public List<ErrorRange> errors() {
        return errors;
    }

    /** The header value with identifier {@code key} ("c", "e"...), or null. */
    public String value(String key) {
        return values.get(key);
    }

    /** header2 (UTF-16) wins over header (ASCII) when both are present, as it holds more. */
    void header(byte[] compressed, boolean utf16) {
        byte[] text = inflate(compressed);
        if (text == null) {
            return;
        }
        String s;
        if (utf16) {
            boolean bigEndian = text.length >= 2 && (text[0] & 0xff) == 0xfe && (text[1] & 0xff) == 0xff;
            s = new String(text, bigEndian ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_16LE);
            if (!s.isEmpty() && s.charAt(0) == '\ufeff') {
                s = s.substring(1);
            }
        } else {
            s = new String(text, StandardCharsets.ISO_8859_1);
        }
        String[] lines = s.replace("\r", "").split("\n", -1);
        // Line 2 names the category ("main"), line 3 the identifiers, line 4 their values.
        if (lines.length < 4 || !lines[1].trim().equals("main")) {
            return;
        }
        String[] keys = lines[2].split("\t", -1);
        String[] vals = lines[3].split("\t", -1);
        for (int i = 0; i < keys.length && i < vals.length; i++) {
            String key = keys[i].trim();
            if (!values.containsKey(key) || values.get(key).isEmpty()) {
                values.put(key, Text.printable(vals[i]));
            }
        }
    }

    /** EWF-X's xhash section: zlib-compressed XML with MD5 and SHA1 elements, in hex. */
    void xhash(byte[] compressed) {
        byte[] text = inflate(compressed);
        if (text == null) {
            return;
        }
        String xml = new String(text, StandardCharsets.UTF_8);
        byte[] m = hexElement(xml, "md5", 16);
        byte[] s = hexElement(xml, "sha1", 20);
        if (m != null && md5 == null) {
            md5(m);
        }
        if (s != null && sha1 == null) {
            sha1(s);
        }
    }

    private static byte[] hexElement(String xml, String element, int bytes) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<" + element + ">\\s*([0-9a-fA-F]{" + 2 * bytes
                + "})\\s*</" + element + ">", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(xml);
        return m.find() ? HexFormat.of().parseHex(m.group(1)) : null;
    }

    void md5(byte[] value) {
        if (!allZero(value)) {
            md5 = value;
        }
    }

    void sha1(byte[] value) {
        if (!allZero(value)) {
            sha1 = value;
        }
    }

    /** Fills {@code info} with what an examiner wants to see. */
    void describe(DiskInfo info) {
        for (String[] shown : SHOWN) {
            String v = values.get(shown[0]);
            if (v == null || v.isEmpty()) {
                continue;
            }
            if (shown[0].equals("m") || shown[0].equals("u")) {
                v = date(v);
            }
            info.detail(shown[1], v);
        }
        if (md5 != null) {
            info.detail("acquisition-md5", HexFormat.of().formatHex(md5));
        }
        if (sha1 != null) {
            info.detail("acquisition-sha1", HexFormat.of().formatHex(sha1));
        }
        info.detail("error-ranges", (long) errors.size());
        for (int i = 0; i < errors.size(); i++) {
            ErrorRange r = errors.get(i);
            // Read as stored, as libewf reads them: the list is a record of the acquisition, and the
            // acquiring tool decided what went into those sectors (EnCase, and ewfacquire -w, zeros;
            // ewfacquire without -w, whatever the failed read left). libewf zeroes only chunks whose
            // checksum fails, which vdmount refuses to read instead.
            info.detail("error-" + (i + 1), "sectors " + r.firstSector() + "-" + (r.firstSector() + r.sectors() - 1)
                    + " (" + r.sectors() + " sectors unreadable at acquisition; read as stored, as libewf does)");
        }
    }

    /**
     * header2 writes dates as POSIX seconds, header as "2002 3 4 10 19 59" (local time of the
     * acquiring machine, whose zone is not recorded).
     */
    static String date(String v) {
        String t = v.trim();
        try {
            if (t.matches("\\d{1,12}")) {
                return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(Long.parseLong(t)));
            }
            String[] p = t.split("\\s+");
            if (p.length == 6) {
                return LocalDateTime.of(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]),
                        Integer.parseInt(p[3]), Integer.parseInt(p[4]), Integer.parseInt(p[5]))
                        + " (acquiring machine's local time)";
            }
        } catch (RuntimeException e) {
            // Shown as written.
        }
        return t;
    }

    private static byte[] inflate(byte[] compressed) {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(compressed);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inflater.finished() && out.size() < MAX_HEADER_BYTES) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            return null;
        } finally {
            inflater.end();
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
