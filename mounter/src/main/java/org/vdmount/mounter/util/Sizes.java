package org.vdmount.mounter.util;

import java.util.Locale;


/** Byte counts as people write and read them: "64K", "3T" in, "20.0 GiB" out. */
public final class Sizes {
    private static final String UNITS = "KMGTPE";

    private Sizes() {
    }

    /**
     * Parses a byte count with an optional binary suffix (K, M, G, T, P, E; "KiB" and "KB" accepted,
     * all meaning powers of 1024). Throws IllegalArgumentException with a readable message.
     */
    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && UNITS.indexOf(s.charAt(s.length() - 2)) >= 0) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty() && UNITS.indexOf(s.charAt(s.length() - 1)) >= 0) {
            shift = 10 * (UNITS.indexOf(s.charAt(s.length() - 1)) + 1);
            s = s.substring(0, s.length() - 1);
        }
        long number;
        try {
            number = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a size (examples: 4096, 64K, 3T)");
        }
        if (number < 0) {
            throw new IllegalArgumentException("'" + text + "' is negative");
        }
        if (shift > 0 && number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return number << shift;
    }

    /** "512 B", "4.0 KiB", "20.0 GiB": one decimal from KiB up, whole bytes below. */
    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < UNITS.length() - 1) {
            value /= 1024;
            unit++;
        }
        // Rounded half up, as printf's %.0f and %.1f round, without printf or BigDecimal: the first
        // use of either costs a short command such as info some 10 ms (the Formatter and the locale
        // data, BigInteger's tables).
        if (value >= 100) {
            return Math.round(value) + " " + UNITS.charAt(unit) + "iB";
        }
        long tenths = Math.round(value * 10);
        return tenths / 10 + "." + tenths % 10 + " " + UNITS.charAt(unit) + "iB";
    }
}
