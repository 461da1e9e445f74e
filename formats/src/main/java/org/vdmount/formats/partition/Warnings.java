package org.vdmount.formats.partition;

import java.util.ArrayList;
import java.util.List;

/**
 * The warnings of one reading, capped: a hostile table of thousands of bad entries must not make
 * thousands of lines.
 */
final class Warnings {
    private static final int LIMIT = 32;
    private final List<String> shown = new ArrayList<>();
    private int dropped;

    void add(String warning) {
        if (shown.size() < LIMIT) {
            shown.add(warning);
        } else {
            dropped++;
        }
    }

    void addAll(Warnings other) {
        for (String w : other.shown) {
            add(w);
        }
        dropped += other.dropped;
    }

    List<String> list() {
        List<String> all = new ArrayList<>(shown);
        if (dropped > 0) {
            all.add(dropped + " more warnings about this partition table not shown");
        }
        return List.copyOf(all);
    }
}
