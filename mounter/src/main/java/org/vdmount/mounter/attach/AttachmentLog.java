package org.vdmount.mounter.attach;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The log of one background attachment, {@code /run/vdmount/<id>.log}: what its server says
 * while serving (failed requests, one line per kind; devices going away), each line stamped with
 * the local time. It is made afresh when the id is taken and kept after detach, until the id is
 * used again or the machine restarts. What a server says before it has an id, and what the JVM
 * itself prints when it crashes, stay in {@code server.log}.
 */
final class AttachmentLog {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss ");

    private AttachmentLog() {
    }

    /** From now on, this process's standard error (as Java code writes it) goes to {@code file}. */
    static void redirectStandardError(Path file) throws IOException {
        OutputStream stamped = new Stamped(new FileOutputStream(file.toFile(), false));
        System.setErr(new PrintStream(stamped, true, StandardCharsets.UTF_8));
    }

    /** Puts the time in front of every line. */
    private static final class Stamped extends OutputStream {
        private final OutputStream out;
        private boolean lineStart = true;

        Stamped(OutputStream out) {
            this.out = out;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            if (lineStart) {
                out.write(LocalDateTime.now().format(STAMP).getBytes(StandardCharsets.US_ASCII));
            }
            out.write(b);
            lineStart = b == '\n';
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            int end = off + len;
            int from = off;
            for (int i = off; i < end; i++) {
                if (lineStart) {
                    out.write(b, from, i - from);
                    from = i;
                    out.write(LocalDateTime.now().format(STAMP).getBytes(StandardCharsets.US_ASCII));
                }
                lineStart = b[i] == '\n';
            }
            out.write(b, from, end - from);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
