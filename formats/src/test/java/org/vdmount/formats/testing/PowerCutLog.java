package org.vdmount.formats.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.vdmount.formats.Storage;

/**
 * What a power cut can leave of files being written. Every write a program makes through
 * {@link #wrap wrapped} storages is logged in order, with each file's flushes (fsync). The state a
 * power cut at a point of the log leaves is, for each file: every write made before the file's
 * last flush before that point, and of the writes after that flush any subset of their 512-byte
 * sectors. A disk keeps a sector whole and nothing more: writes not yet flushed land in any order
 * and may be torn between sectors. (A kill -9 is the special case where every write lands.)
 *
 * <p>Test code: the program's writes also go to the real files, which it reads back as it runs.
 */
public final class PowerCutLog {
    public static final int SECTOR = 512;

    private sealed interface Entry permits Write, Flush {
    }

    private record Write(int file, long offset, byte[] bytes) implements Entry {
    }

    private record Flush(int file) implements Entry {
    }

    private record Recorded(Path path, byte[] initial) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final List<Recorded> files = new ArrayList<>();

    /** How many writes and flushes have been logged: the points a power cut can hit are 0 to this. */
    public synchronized int position() {
        return entries.size();
    }

    /** The log positions of the flushes: a cut just before one finds the most writes in flight. */
    public synchronized List<Integer> flushPoints() {
        List<Integer> points = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i) instanceof Flush) {
                points.add(i);
            }
        }
        return points;
    }

    /** {@code inner} (a file), its writes and flushes logged; its content now is what a cut starts from. */
    public synchronized Storage wrap(Storage inner) throws IOException {
        Path path = inner.path().orElseThrow(() -> new IllegalArgumentException(inner.name() + " is not a file"));
        int id = files.size();
        files.add(new Recorded(path, Files.readAllBytes(path)));
        return new Recording(inner, id);
    }

    /**
     * Writes into {@code dir} the files as a power cut at {@code point} may leave them (same file
     * names), keeping each sector of an unflushed write with probability {@code keep}; returns their
     * paths in the order they were wrapped.
     */
    public synchronized List<Path> cut(int point, double keep, Random random, Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int id = 0; id < files.size(); id++) {
            int lastFlush = -1;
            for (int i = 0; i < point; i++) {
                if (entries.get(i) instanceof Flush f && f.file == id) {
                    lastFlush = i;
                }
            }
            Path target = dir.resolve(files.get(id).path.getFileName());
            Files.write(target, files.get(id).initial);
            try (FileChannel channel = FileChannel.open(target, StandardOpenOption.WRITE)) {
                for (int i = 0; i < point; i++) {
                    if (entries.get(i) instanceof Write w && w.file == id) {
                        if (i < lastFlush) {
                            writeFully(channel, ByteBuffer.wrap(w.bytes), w.offset);
                        } else {
                            writeSomeSectors(channel, w, keep, random);
                        }
                    }
                }
            }
            out.add(target);
        }
        return out;
    }

    private static void writeSomeSectors(FileChannel channel, Write w, double keep, Random random) throws IOException {
        int at = 0;
        while (at < w.bytes.length) {
            long position = w.offset + at;
            int n = (int) Math.min(w.bytes.length - at, SECTOR - position % SECTOR);
            if (random.nextDouble() < keep) {
                writeFully(channel, ByteBuffer.wrap(w.bytes, at, n), position);
            }
            at += n;
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer src, long position) throws IOException {
        long at = position;
        while (src.hasRemaining()) {
            at += channel.write(src, at);
        }
    }

    private synchronized void log(Entry entry) {
        entries.add(entry);
    }

    /** A storage whose writes and flushes are logged before they are passed on. */
    private final class Recording implements Storage {
        private final Storage inner;
        private final int id;

        Recording(Storage inner, int id) {
            this.inner = inner;
            this.id = id;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Optional<Path> path() {
            return inner.path();
        }

        @Override
        public long size() throws IOException {
            return inner.size();
        }

        @Override
        public int readAt(ByteBuffer dst, long position) throws IOException {
            return inner.readAt(dst, position);
        }

        @Override
        public boolean writable() {
            return inner.writable();
        }

        @Override
        public void writeAt(ByteBuffer src, long position) throws IOException {
            byte[] bytes = new byte[src.remaining()];
            src.duplicate().get(bytes);
            log(new Write(id, position, bytes));
            inner.writeAt(src, position);
        }

        @Override
        public void flush() throws IOException {
            inner.flush();
            log(new Flush(id));
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
