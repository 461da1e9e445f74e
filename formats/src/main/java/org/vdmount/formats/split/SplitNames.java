package org.vdmount.formats.split;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of a split raw image, as dd/split, dcfldd and FTK Imager write them: NAME.001 (or
 * NAME.000, NAME.raw.001), NAME.002 ...; or split's NAME.aa, NAME.ab ... A name is the first of a
 * set when its number is 0 or 1, or its letters are all 'a'.
 */
final class SplitNames {
    private static final Pattern DIGITS = Pattern.compile("(.*\\.)(\\d{3,})");
    private static final Pattern LETTERS = Pattern.compile("(.*\\.)([a-z]{2,3})");

    private final String stem;
    private final boolean digits;
    private final int width;
    private final long first;

    private SplitNames(String stem, boolean digits, int width, long first) {
        this.stem = stem;
        this.digits = digits;
        this.width = width;
        this.first = first;
    }

    /** The naming of the set whose first segment is {@code fileName}, or null when it is not one. */
    static SplitNames ofFirst(String fileName) {
        Matcher d = DIGITS.matcher(fileName);
        if (d.matches()) {
            long n = Long.parseLong(d.group(2));
            return n <= 1 && d.group(2).length() <= 6 ? new SplitNames(d.group(1), true, d.group(2).length(), n) : null;
        }
        Matcher l = LETTERS.matcher(fileName);
        if (l.matches() && l.group(2).chars().allMatch(c -> c == 'a')) {
            return new SplitNames(l.group(1), false, l.group(2).length(), 0);
        }
        return null;
    }

    /** The largest number of segments the naming allows. */
    long capacity() {
        return digits ? (long) Math.pow(10, width) - first : (long) Math.pow(26, width);
    }

    /** The file name of segment {@code index} (0 for the first). */
    String name(long index) {
        if (digits) {
            return stem + String.format("%0" + width + "d", first + index);
        }
        char[] s = new char[width];
        long n = index;
        for (int i = width - 1; i >= 0; i--) {
            s[i] = (char) ('a' + n % 26);
            n /= 26;
        }
        return stem + new String(s);
    }
}
