package org.vdmount.mounter.util;

/**
 * Padding for the columns of text reports. printf would do it, but its first use loads the
 * Formatter and the locale data, some 10 ms of a short command such as {@code info}.
 */
public final class Columns {
    private Columns() {
    }

    /** {@code text} followed by spaces up to {@code width} characters (printf's {@code %-Ns}). */
    public static String left(Object text, int width) {
        StringBuilder s = new StringBuilder(String.valueOf(text));
        while (s.length() < width) {
            s.append(' ');
        }
        return s.toString();
    }

    /** {@code text} after spaces up to {@code width} characters (printf's {@code %Ns}). */
    public static String right(Object text, int width) {
        String s = String.valueOf(text);
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }

    /** {@code value} in at least {@code digits} digits, zeros in front (printf's {@code %0Nd}). */
    public static String zeros(long value, int digits) {
        String s = Long.toString(value);
        return s.length() >= digits ? s : "0".repeat(digits - s.length()) + s;
    }
}
