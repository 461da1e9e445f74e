package org.vdmount.mounter.attach;

import java.util.Locale;

/** Sizes as people read them: "512 MiB", "20.0 GiB" (binary units, three significant digits or so). */
public final class Sizes {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Sizes() {
    }

    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return value >= 100
                ? String.format(Locale.ROOT, "%d %s", Math.round(value), UNITS[unit])
                : String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }
}
