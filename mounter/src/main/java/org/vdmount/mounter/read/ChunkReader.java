package org.vdmount.mounter.read;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.Buffers;

/**
 * Reads one stretch of a disk into a buffer, asking the map first so that holes are zero-filled
 * without touching the image, and remembering which parts the image stores (a sparse writer skips
 * the rest). Thread safe: shared by every reader thread.
 */
final class ChunkReader {
    private final VirtualDisk disk;

    ChunkReader(VirtualDisk disk) {
        this.disk = disk;
    }

    Chunk read(long at, int n, ByteBuffer buffer) throws IOException {
        buffer.clear().limit(n);
        List<long[]> stored = new ArrayList<>();
        disk.map(at, n, run -> {
            if (run.kind().readsAsZero()) {
                return;
            }
            if (run.kind() != RunKind.UNREADABLE && !stored.isEmpty() && stored.get(stored.size() - 1)[1] == run.offset()) {
                stored.get(stored.size() - 1)[1] = run.end();
            } else {
                stored.add(new long[] {run.offset(), run.end()});
            }
        });
        int filled = 0;
        for (long[] range : stored) {
            zero(buffer, filled, (int) (range[0] - at));
            ByteBuffer part = buffer.duplicate().position((int) (range[0] - at)).limit((int) (range[1] - at));
            disk.read(part, range[0]);
            filled = (int) (range[1] - at);
        }
        zero(buffer, filled, n);
        buffer.position(0).limit(n);
        return new Chunk(at, buffer, stored);
    }

    private static void zero(ByteBuffer buffer, int from, int to) {
        Buffers.fillZeros(buffer.duplicate().position(from).limit(to));
    }
}
