package org.vdmount.formats.partition;

import java.io.IOException;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;

/**
 * A made-up format: blocks stored in reverse order, every third block a ZERO run, so that a
 * partition spans many runs at host offsets unlike its virtual ones.
 */
final class ScrambledDisk extends AbstractVirtualDisk {
    static final int BLOCK = 64 * 1024;
    private final Storage storage;
    private final long blocks;

    ScrambledDisk(Storage storage, long blocks) {
        super(blocks * BLOCK, null);
        this.storage = storage;
        this.blocks = blocks;
    }

    static boolean isZeroBlock(long block) {
        return block % 3 == 2;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        long end = offset + length;
        for (long at = offset; at < end; ) {
            long block = at / BLOCK;
            long stop = Math.min(end, (block + 1) * BLOCK);
            if (isZeroBlock(block)) {
                sink.accept(Run.of(RunKind.ZERO, at, stop - at));
            } else {
                long host = (blocks - 1 - block) * BLOCK + at % BLOCK;
                sink.accept(Run.data(at, stop - at, storage, host));
            }
            at = stop;
        }
    }

    @Override
    public DiskInfo info() {
        return new DiskInfo("scrambled.img", "scrambled").virtualSize(size());
    }

    @Override
    public void close() throws IOException {
        storage.close();
    }
}
