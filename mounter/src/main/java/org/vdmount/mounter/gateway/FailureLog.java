package org.vdmount.mounter.gateway;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.vdmount.mounter.system.Errno;

/**
 * The one log policy for failed requests, whatever the transport: the first failure of each kind
 * gets one line (what was asked, and why it failed); later ones of the same kind are only counted,
 * so a damaged table that every nearby read meets does not flood the log. A kind is the operation
 * with the failure's class and message, digits aside (offsets differ, the reason does not). With
 * {@code VDMOUNT_DEBUG} set, the first of each kind also gets its stack trace.
 */
public final class FailureLog {
    /** Kinds remembered; past this, new kinds are counted but no longer described. */
    static final int MAX_KINDS = 100;

    private final String subject;
    private final Consumer<String> sink;
    private final boolean debug;
    private final Map<String, AtomicLong> kinds = new ConcurrentHashMap<>();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong unlisted = new AtomicLong();

    /**
     * @param subject what the failures happen to, as the log names it: "/dev/abuse0", "export 'disk'"
     * @param sink    where lines go (a line may hold a stack trace under VDMOUNT_DEBUG)
     */
    public FailureLog(String subject, Consumer<String> sink) {
        this(subject, sink, System.getenv("VDMOUNT_DEBUG") != null);
    }

    FailureLog(String subject, Consumer<String> sink, boolean debug) {
        this.subject = subject;
        this.sink = sink;
        this.debug = debug;
    }

    /** Records a failed request; logs it when it is the first of its kind. */
    void failed(Operation op, long offset, long length, int errno, Throwable cause) {
        failures.incrementAndGet();
        String reason = reason(cause);
        String kind = op + " " + cause.getClass().getName() + " " + reason.replaceAll("[0-9]+", "#");
        AtomicLong count = kinds.get(kind);
        if (count == null && kinds.size() >= MAX_KINDS) {
            if (unlisted.getAndIncrement() == 0) {
                sink.accept(subject + ": more than " + MAX_KINDS + " kinds of failure: further kinds are counted only");
            }
            return;
        }
        if (count == null) {
            count = kinds.computeIfAbsent(kind, k -> new AtomicLong());
        }
        if (count.getAndIncrement() == 0) {
            String line = subject + ": " + describe(op, offset, length) + " failed: " + reason + " (answered "
                    + errnoName(errno) + "; later failures like it are counted, not logged)";
            sink.accept(debug ? line + "\n" + trace(cause) : line);
        }
    }

    /** Failed requests so far. */
    public long failures() {
        return failures.get();
    }

    /** One line on every failure since the start, for when serving ends; null when there were none. */
    public String summary() {
        long n = failures.get();
        if (n == 0) {
            return null;
        }
        return subject + ": " + n + " request" + (n == 1 ? "" : "s") + " failed, of " + kinds.size()
                + (unlisted.get() > 0 ? "+" : "") + " kind" + (kinds.size() == 1 ? "" : "s");
    }

    private static String describe(Operation op, long offset, long length) {
        return switch (op) {
            case FLUSH -> "flush";
            default -> op + " of " + length + " bytes at offset " + offset;
        };
    }

    /** The failure as the user should read it: an image error's message names the file and the reason. */
    static String reason(Throwable e) {
        String message = e.getMessage();
        if (e instanceof IOException && message != null) {
            return message;
        }
        return message == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + message;
    }

    private static String errnoName(int errno) {
        return switch (errno) {
            case Errno.EIO -> "EIO";
            case Errno.ENOSPC -> "ENOSPC";
            case Errno.ENOMEM -> "ENOMEM";
            case Errno.ENOTSUP -> "ENOTSUP";
            default -> "errno " + errno;
        };
    }

    private static String trace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString().stripTrailing();
    }
}
