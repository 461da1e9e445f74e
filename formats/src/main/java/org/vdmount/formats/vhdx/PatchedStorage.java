package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vdmount.formats.Storage;
import org.vdmount.formats.io.Buffers;

/**
 * A storage with writes laid over it in memory: the image file as it would be once its log is
 * replayed, without writing a byte of it. Patches never overlap; a later one replaces what it
 * covers of earlier ones. Zero patches hold no bytes.
 */
final class PatchedStorage implements Storage {
    /** A patched stretch: its end and its bytes (null for zeros). */
    private record Patch(long end, byte[] data) {
    }

    private final Storage base;
    private final TreeMap<Long, Patch> patches = new TreeMap<>();
    private long size;

    PatchedStorage(Storage base) throws IOException {
        this.base = base;
        this.size = base.size();
    }

    void write(long offset, byte[] data) {
        put(offset, offset + data.length, data);
    }

    void zero(long offset, long length) {
        put(offset, offset + length, null);
    }

    /** The file grows to {@code length} when the log says it must be that long. */
    void extendTo(long length) {
        size = Math.max(size, length);
    }

    private void put(long start, long end, byte[] data) {
        Map.Entry<Long, Patch> before = patches.lowerEntry(start);
        if (before != null && before.getValue().end() > start) {
            Patch p = before.getValue();
            patches.put(before.getKey(), cut(p, before.getKey(), before.getKey(), start));
            if (p.end() > end) {
                patches.put(end, cut(p, before.getKey(), end, p.end()));
            }
        }
        while (true) {
            Map.Entry<Long, Patch> inside = patches.ceilingEntry(start);
            if (inside == null || inside.getKey() >= end) {
                break;
            }
            Patch p = patches.remove(inside.getKey());
            if (p.end() > end) {
                patches.put(end, cut(p, inside.getKey(), end, p.end()));
            }
        }
        patches.put(start, new Patch(end, data));
        size = Math.max(size, end);
    }

    /** The part {@code [from, to)} of patch {@code p}, which starts at {@code start}. */
    private static Patch cut(Patch p, long start, long from, long to) {
        if (p.data() == null) {
            return new Patch(to, null);
        }
        byte[] part = new byte[(int) (to - from)];
        System.arraycopy(p.data(), (int) (from - start), part, 0, part.length);
        return new Patch(to, part);
    }

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public Optional<Path> path() {
        return base.path();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int readAt(ByteBuffer dst, long position) throws IOException {
        if (position >= size) {
            return -1;
        }
        int wanted = (int) Math.min(dst.remaining(), size - position);
        long pos = position;
        long end = position + wanted;
        while (pos < end) {
            Map.Entry<Long, Patch> e = patches.floorEntry(pos);
            if (e != null && e.getValue().end() > pos) {
                long stop = Math.min(end, e.getValue().end());
                int n = (int) (stop - pos);
                byte[] data = e.getValue().data();
                if (data == null) {
                    Buffers.fillZeros(dst.slice().limit(n));
                    dst.position(dst.position() + n);
                } else {
                    dst.put(data, (int) (pos - e.getKey()), n);
                }
                pos = stop;
                continue;
            }
            Long next = patches.higherKey(pos);
            long stop = Math.min(end, next == null ? end : next);
            readBase(dst, pos, (int) (stop - pos));
            pos = stop;
        }
        return wanted;
    }

    /** Bytes of the file under no patch; past the file's own end (a log that grew it), zeros. */
    private void readBase(ByteBuffer dst, long pos, int n) throws IOException {
        long baseSize = base.size();
        int fromBase = (int) Math.max(0, Math.min(n, baseSize - pos));
        if (fromBase > 0) {
            ByteBuffer part = dst.slice().limit(fromBase);
            base.readFully(part, pos);
            dst.position(dst.position() + fromBase);
        }
        Buffers.fillZeros(dst.slice().limit(n - fromBase));
        dst.position(dst.position() + n - fromBase);
    }

    @Override
    public void close() throws IOException {
        base.close();
    }

    @Override
    public String toString() {
        return base.name();
    }
}
