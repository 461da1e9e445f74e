package org.vdmount.formats.ewf;

/**
 * The names of an EWF segment set: NAME.E01 to NAME.E99, then NAME.EAA, NAME.EAB ... NAME.EZZ,
 * NAME.FAA ... NAME.ZZZ, in the case the first segment's extension is written in; SMART's
 * NAME.s01 ... likewise from its letter.
 */
final class SegmentNames {
    /** E01-E99, then 26 * 26 for each of the 22 letters E to Z (fewer from S). */
    static final int MAX_SEGMENTS = 99 + 22 * 26 * 26;

    private SegmentNames() {
    }

    /** Whether {@code fileName} ends in .E01 (any case): the first segment of a set. */
    static boolean isFirst(String fileName) {
        return fileName.length() > 4 && (fileName.regionMatches(true, fileName.length() - 4, ".e01", 0, 4)
                || fileName.regionMatches(true, fileName.length() - 4, ".s01", 0, 4));
    }

    /**
     * The file name of segment {@code number} (1-based) of the set whose first segment is {@code first},
     * or null when the naming has no name that far.
     */
    static String name(String first, int number) {
        String stem = first.substring(0, first.length() - 3);
        boolean lower = Character.isLowerCase(first.charAt(first.length() - 3));
        String ext;
        if (number <= 99) {
            ext = String.format("%c%02d", first.charAt(first.length() - 3), number);
        } else {
            int n = number - 100;
            char a = (char) (Character.toUpperCase(first.charAt(first.length() - 3)) + n / (26 * 26));
            if (a > 'Z') {
                return null;
            }
            char b = (char) ('A' + n / 26 % 26);
            char c = (char) ('A' + n % 26);
            ext = "" + a + b + c;
            if (lower) {
                ext = ext.toLowerCase(java.util.Locale.ROOT);
            }
        }
        return stem + ext;
    }
}
