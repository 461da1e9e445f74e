package org.vdmount.formats.overlay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunKind;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;

/**
 * A writable disk over a read-only one: writes, discards and zeroes go to an overlay file, the base
 * image is never opened for writing. The overlay keeps whole blocks (copied up from the base on
 * the first partial write) and a table of block states; the table is written on flush and close,
 * after the data it describes is durable, so a crash loses only writes that were never flushed.
 */
public final class OverlayDisk extends AbstractVirtualDisk {
    /** Default block: small enough that copy-up is cheap, large enough to keep the table small. */
    public static final int DEFAULT_BLOCK = 64 * 1024;
    /** The state table never needs more than 2^28 blocks (64 MiB of memory). */
    private static final long MAX_BLOCKS = 1L << 28;
    private static final int LOCK_STRIPES = 256;

    private final VirtualDisk base;
    private final Storage overlay;
    private final OverlayHeader header;
    private final BlockStates states;
    private final ReentrantLock[] stripes = new ReentrantLock[LOCK_STRIPES];
    private final DiskInfo info;
    private volatile boolean dirty;

    private OverlayDisk(VirtualDisk base, Storage overlay, OverlayHeader header, BlockStates states) {
        super(base.size(), base);
        this.base = base;
        this.overlay = overlay;
        this.header = header;
        this.states = states;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.info = new DiskInfo(overlay.name(), "vdmount-overlay")
                .virtualSize(base.size())
                .clusterSize(header.blockSize())
                .detail("base-image", header.baseName());
        info.files().add(overlay.name());
    }

    /**
     * Opens {@code file} as the overlay of {@code base}, creating it when it does not exist. An
     * existing file must be an overlay made for a disk of the same size.
     */
    public static OverlayDisk open(VirtualDisk base, Path file) throws IOException {
        String name = file.toString();
        boolean create = !Files.exists(file) || Files.size(file) == 0;
        if (create) {
            Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE).close();
        }
        FileStorage storage = FileStorage.open(file, name, true);
        try {
            OverlayHeader header;
            BlockStates states;
            if (create) {
                header = OverlayHeader.create(base.size(), blockSizeFor(base.size()), base.info().name());
                states = new BlockStates(header.blocks());
                storage.writeAt(header.encode(), 0);
                storage.writeAt(states.encode((int) OverlayHeader.tableBytes(header.blocks())), header.tableOffset());
                storage.flush();
            } else {
                header = OverlayHeader.read(storage);
                if (header.virtualSize() != base.size()) {
                    throw new ImageException(name, "overlay was made for a disk of " + header.virtualSize()
                            + " bytes, but " + base.info().name() + " is " + base.size() + " bytes");
                }
                if (header.blocks() > MAX_BLOCKS) {
                    throw new ImageException(name, "overlay has too many blocks");
                }
                states = new BlockStates(header.blocks());
                ByteBuffer table = ByteBuffer.allocate((int) OverlayHeader.tableBytes(header.blocks()));
                storage.readFully(table, header.tableOffset());
                states.decode(table.flip());
            }
            return new OverlayDisk(base, storage, header, states);
        } catch (IOException | RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    private static int blockSizeFor(long size) {
        int block = DEFAULT_BLOCK;
        while (OverlayHeader.blockCount(size, block) > MAX_BLOCKS && block < (2 << 20)) {
            block <<= 1;
        }
        return block;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        int bs = header.blockSize();
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long block = pos / bs;
            long stop = Math.min(end, (block + 1) * bs);
            int state = states.get(block);
            Run run = switch (state) {
                case BlockStates.DATA -> Run.data(pos, stop - pos, overlay, header.dataOffset() + pos);
                case BlockStates.ZERO -> Run.of(RunKind.ZERO, pos, stop - pos);
                default -> Run.of(RunKind.BACKING, pos, stop - pos);
            };
            sink.accept(run);
            pos = stop;
        }
    }

    @Override
    public boolean writable() {
        return true;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkRange(offset, src.remaining());
        int bs = header.blockSize();
        long end = offset + src.remaining();
        long pos = offset;
        while (pos < end) {
            long block = pos / bs;
            long stop = Math.min(end, (block + 1) * bs);
            ByteBuffer part = src.duplicate().limit(src.position() + (int) (stop - pos));
            ReentrantLock lock = stripes[(int) (block % LOCK_STRIPES)];
            lock.lock();
            try {
                if (states.get(block) != BlockStates.DATA && (pos != block * bs || stop != blockEnd(block))) {
                    copyUp(block);
                }
                overlay.writeAt(part, header.dataOffset() + pos);
                states.set(block, BlockStates.DATA);
            } finally {
                lock.unlock();
            }
            src.position(src.position() + (int) (stop - pos));
            pos = stop;
        }
        dirty = true;
    }

    /** Brings a whole block into the overlay before part of it is overwritten. */
    private void copyUp(long block) throws IOException {
        long start = block * header.blockSize();
        ByteBuffer whole = ByteBuffer.allocate((int) (blockEnd(block) - start));
        if (states.get(block) != BlockStates.ZERO) {
            base.read(whole, start);
            whole.flip();
        }
        overlay.writeAt(whole.clear(), header.dataOffset() + start);
    }

    private long blockEnd(long block) {
        return Math.min(size(), (block + 1) * header.blockSize());
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkRange(offset, length);
        int bs = header.blockSize();
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long block = pos / bs;
            long stop = Math.min(end, (block + 1) * bs);
            if (pos == block * bs && stop == blockEnd(block)) {
                ReentrantLock lock = stripes[(int) (block % LOCK_STRIPES)];
                lock.lock();
                try {
                    states.set(block, BlockStates.ZERO);
                } finally {
                    lock.unlock();
                }
            } else {
                ByteBuffer zeros = ByteBuffer.allocate((int) (stop - pos));
                write(zeros, pos);
            }
            pos = stop;
        }
        dirty = true;
    }

    @Override
    public synchronized void flush() throws IOException {
        if (!dirty) {
            return;
        }
        dirty = false;
        overlay.flush();
        overlay.writeAt(states.encode((int) OverlayHeader.tableBytes(header.blocks())), header.tableOffset());
        overlay.flush();
    }

    @Override
    public DiskInfo info() {
        return info;
    }

    @Override
    public Optional<VirtualDisk> backing() {
        return Optional.of(base);
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            try {
                overlay.close();
            } finally {
                base.close();
            }
        }
    }
}
