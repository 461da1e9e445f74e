package org.vdmount.mounter.serve;

import org.vdmount.formats.testing.TestImages;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * What the NBD tests share: running the real client tools (a missing tool fails, CI installs them),
 * a disk with chosen holes, zeros and unreadable parts, and repeatable data. The formats module's
 * TestImages is not visible from here (no test-jar dependency), hence the small copy of run().
 */
final class NbdTestSupport {
    private NbdTestSupport() {
    }

    static InetSocketAddress loopbackAnyPort() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    static String uri(NbdServer server, String export) {
        InetSocketAddress a = (InetSocketAddress) server.address();
        return "nbd://127.0.0.1:" + a.getPort() + "/" + export;
    }

    /** Runs a command, failing the test with its output unless it exits 0; returns stdout+stderr. */
    static String run(Path dir, String... command) throws IOException, InterruptedException {
        return TestImages.run(dir, command);
    }

    static TestImages.Result runAllowingFailure(Path dir, String... command) throws IOException, InterruptedException {
        return TestImages.runAllowingFailure(dir, command);
    }

    static byte[] pattern(int length, int seed) {
        return TestImages.pattern(length, seed);
    }

    /** Bytes in memory, as a Storage. */
    static final class MemoryStorage implements Storage {
        private final byte[] bytes;

        MemoryStorage(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public String name() {
            return "memory";
        }

        @Override
        public Optional<Path> path() {
            return Optional.empty();
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public int readAt(ByteBuffer dst, long position) {
            if (position >= bytes.length) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), bytes.length - position);
            dst.put(bytes, (int) position, n);
            return n;
        }

        @Override
        public void close() {
        }
    }

    /**
     * A disk laid out as the test says: pieces of DATA (pattern bytes), ZERO, UNALLOCATED or
     * UNREADABLE, in order. {@link #expected()} is what reading it must give.
     */
    static final class LayoutDisk extends AbstractVirtualDisk {
        record Piece(RunKind kind, long length) {
        }

        private final List<Piece> pieces;
        private final byte[] content;
        private final MemoryStorage storage;
        private final DiskInfo info;

        private LayoutDisk(List<Piece> pieces, long size, byte[] content) {
            super(size, null);
            this.pieces = pieces;
            this.content = content;
            this.storage = new MemoryStorage(content);
            this.info = new DiskInfo("layout", "test").virtualSize(size);
        }

        static LayoutDisk of(Object... kindsAndLengths) {
            List<Piece> pieces = new ArrayList<>();
            long size = 0;
            for (int i = 0; i < kindsAndLengths.length; i += 2) {
                Piece p = new Piece((RunKind) kindsAndLengths[i], ((Number) kindsAndLengths[i + 1]).longValue());
                pieces.add(p);
                size += p.length();
            }
            byte[] content = new byte[(int) size];
            byte[] data = pattern((int) size, 7);
            long at = 0;
            for (Piece p : pieces) {
                if (p.kind() == RunKind.DATA) {
                    System.arraycopy(data, (int) at, content, (int) at, (int) p.length());
                }
                at += p.length();
            }
            return new LayoutDisk(pieces, size, content);
        }

        byte[] expected() {
            return content.clone();
        }

        @Override
        protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
            long at = 0;
            long end = offset + length;
            for (Piece p : pieces) {
                long pieceEnd = at + p.length();
                if (pieceEnd > offset && at < end) {
                    Run whole = p.kind() == RunKind.DATA
                            ? Run.data(at, p.length(), storage, at)
                            : Run.of(p.kind(), at, p.length());
                    sink.accept(whole.slice(offset, end));
                }
                at = pieceEnd;
            }
        }

        @Override
        public DiskInfo info() {
            return info;
        }

        @Override
        public void close() {
        }
    }
}
