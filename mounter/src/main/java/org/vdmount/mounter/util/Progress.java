package org.vdmount.mounter.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display on stderr, redrawn at most five times a second; silent when stderr
 * is not a terminal, so scripts and logs never see it.
 */
public final class Progress implements AutoCloseable {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean enabled;
    private final long started = System.nanoTime();
    private long lastDraw;
    private long done;

    public Progress(String label, long total, boolean enabled) {
        this.out = System.err;
        this.label = label;
        this.total = total;
        this.enabled = enabled;
    }

    /** A progress display that shows only when stderr is a terminal. */
    public static Progress onTerminal(String label, long total) {
        return new Progress(label, total, Terminal.stderrIsTerminal());
    }

    public synchronized void advance(long bytes) {
        done += bytes;
        long now = System.nanoTime();
        if (enabled && now - lastDraw >= REDRAW_NANOS) {
            lastDraw = now;
            draw(now);
        }
    }

    private void draw(long now) {
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        int percent = total == 0 ? 100 : (int) (100.0 * done / total);
        String line = String.format(Locale.ROOT, "\r%s %3d%%  %s / %s  %s/s ", label, percent,
                Sizes.human(done), Sizes.human(total), Sizes.human((long) (done / seconds)));
        out.print(line);
        out.flush();
    }

    @Override
    public synchronized void close() {
        if (enabled) {
            draw(System.nanoTime());
            out.println();
            out.flush();
        }
    }
}
