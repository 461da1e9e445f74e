package org.vdmount.formats.vmdk;

import java.util.Locale;

/**
 * One extent line of a descriptor: {@code ACCESS SECTORS TYPE ["file" [offset]]}.
 *
 * @param access     RW, RDONLY or NOACCESS
 * @param sectors    length of the extent in 512-byte sectors
 * @param type       FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE, VMFSRAW, VMFSRDM
 * @param file       the extent's file name as written (null for ZERO)
 * @param offset     for flat extents, where the extent starts in its file, in sectors
 * @param lineNumber 1-based line in the descriptor, for error messages
 * @param text       the line as written, for error messages
 */
record ExtentLine(String access, long sectors, String type, String file, long offset, int lineNumber, String text) {

    boolean noAccess() {
        return access.equals("NOACCESS");
    }

    /** Extents whose file is a plain image of the bytes, starting at {@link #offset}. */
    boolean flat() {
        return switch (type) {
            case "FLAT", "VMFS", "VMFSRAW", "VMFSRDM", "VMFSPASSTHROUGHRAW" -> true;
            default -> false;
        };
    }

    boolean zero() {
        return type.equals("ZERO");
    }

    /** Extents with a grain directory of their own: hosted sparse, COWD, seSparse. */
    boolean sparse() {
        return switch (type) {
            case "SPARSE", "VMFSSPARSE", "SESPARSE" -> true;
            default -> false;
        };
    }

    /** "line 7: RW 2048 SPARSE "x.vmdk"", the way errors cite it. */
    String cite() {
        return "line " + lineNumber + ": " + text;
    }

    static String normalType(String word) {
        return word.toUpperCase(Locale.ROOT);
    }
}
