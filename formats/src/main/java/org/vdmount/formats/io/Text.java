package org.vdmount.formats.io;

/** Text read from an image file, made safe to show. */
public final class Text {
    private Text() {
    }

    /** Keeps names read from a hostile file on one line, without terminal control characters. */
    public static String printable(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.toString();
    }
}
