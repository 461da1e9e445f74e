package org.vdmount.formats.ewf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.AbstractVirtualDisk;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.EvidenceContainer;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Run;
import org.vdmount.formats.RunSink;
import org.vdmount.formats.Storage;
import org.vdmount.formats.compress.Codec;
import org.vdmount.formats.compress.CompressedBlocks;

/**
 * The media of an EWF set. Every chunk, compressed or stored, is a COMPRESSED run: a stored chunk
 * is followed by its Adler-32 and a compressed one carries zlib's, and both are checked on every
 * read, so a flipped bit in the evidence is an error naming the chunk, never silent.
 */
public final class EwfDisk extends AbstractVirtualDisk implements EvidenceContainer {
    /** Stored bytes of one chunk: a zlib stream may be a little larger than its input. */
    private static final int SLACK = 1024;

    private final String name;
    private final EwfOpener.Volume volume;
    private final Acquisition acquisition;
    private final ChunkTable[] tables;
    private final long[] firstChunks;
    private final List<Storage> segments;
    private final List<String> files;
    private final long fileBytes;
    private final int chunkBytes;
    private final Map<Storage, CompressedBlocks[]> blocks = new IdentityHashMap<>();

    EwfDisk(String name, EwfOpener.Volume volume, Acquisition acquisition, List<ChunkTable> tables,
            List<Storage> segments, List<String> files, long fileBytes) {
        super(volume.mediaSize(), null);
        this.name = name;
        this.volume = volume;
        this.acquisition = acquisition;
        this.tables = tables.toArray(ChunkTable[]::new);
        this.firstChunks = tables.stream().mapToLong(ChunkTable::firstChunk).toArray();
        this.segments = List.copyOf(segments);
        this.files = List.copyOf(files);
        this.fileBytes = fileBytes;
        this.chunkBytes = volume.chunkBytes();
        for (Storage s : segments) {
            blocks.put(s, new CompressedBlocks[] {
                new CompressedBlocks(s, "chunk", chunkBytes, Codec.Kind.ZLIB_CHECKED, true, this::locate),
                new CompressedBlocks(s, "chunk", chunkBytes, Codec.Kind.STORED_ADLER32, true, this::locate),
            });
        }
    }

    /** What was recorded at acquisition: case, examiner, hashes, unreadable sectors. */
    public Acquisition acquisition() {
        return acquisition;
    }

    public int chunkBytes() {
        return chunkBytes;
    }

    @Override
    protected void mapLocal(long offset, long length, RunSink sink) throws IOException {
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long chunk = pos / chunkBytes;
            long chunkEnd = Math.min(end, (chunk + 1) * chunkBytes);
            ChunkTable t = table(chunk);
            sink.accept(Run.compressed(pos, chunkEnd - pos, t.storage(), chunk));
            pos = chunkEnd;
        }
    }

    @Override
    protected int compressedBlockSize() {
        return chunkBytes;
    }

    @Override
    protected void readCompressed(Run run, ByteBuffer dst) throws IOException {
        long chunk = run.hostOffset();
        ChunkTable t = table(chunk);
        long entry = t.entries()[(int) (chunk - t.firstChunk())];
        CompressedBlocks reader = blocks.get(t.storage())[ChunkTable.compressed(entry) ? 0 : 1];
        long start = chunk * chunkBytes;
        reader.read(chunk, start, (int) (run.offset() - start), dst);
    }

    /** Where chunk {@code chunk} is stored, its bounds checked against its neighbours and the file. */
    private void locate(long chunk, long blockStart, CompressedBlocks.Stored where) throws IOException {
        ChunkTable t = table(chunk);
        long[] entries = t.entries();
        int i = (int) (chunk - t.firstChunk());
        long from = ChunkTable.offset(entries[i]);
        long to = ChunkTable.offset(entries[i + 1]);
        long length = to - from;
        if (from < 0 || length <= 4 || length > chunkBytes + SLACK) {
            throw new ImageException(t.storage().name(), "chunk at media offset " + blockStart
                    + " has an impossible place in its table (offset " + from + ", " + length + " bytes)");
        }
        where.set(from, (int) length);
    }

    private ChunkTable table(long chunk) throws ImageException {
        int i = Arrays.binarySearch(firstChunks, chunk);
        i = i >= 0 ? i : -i - 2;
        // Tables are laid end to end; a chunk beyond the last one's entries is a set's missing part.
        if (i < 0 || chunk >= tables[i].firstChunk() + tables[i].count()) {
            throw new ImageException(name, "no table lists the chunk at media offset " + chunk * chunkBytes);
        }
        return tables[i];
    }

    @Override
    public DiskInfo info() {
        DiskInfo info = new DiskInfo(name, "ewf").subformat("E01").virtualSize(size()).fileSize(fileBytes)
                .clusterSize(chunkBytes).compression("deflate");
        acquisition.describe(info);
        info.detail("media-type", mediaType(volume.mediaType()));
        if (volume.mediaFlags() != 0) {
            info.detail("physical", (volume.mediaFlags() & 2) != 0);
        }
        info.detail("bytes-per-sector", volume.bytesPerSector());
        info.detail("sectors", volume.sectorCount());
        info.detail("chunk-sectors", volume.sectorsPerChunk());
        if (volume.compressionLevel() >= 0) {
            info.detail("compression-level", switch (volume.compressionLevel()) {
                case 0 -> "none";
                case 1 -> "fast";
                case 2 -> "best";
                default -> "unknown (" + volume.compressionLevel() + ")";
            });
        }
        info.detail("segments", (long) segments.size());
        info.files().addAll(files);
        return info;
    }

    private static String mediaType(int type) {
        return switch (type) {
            case -1 -> null;
            case 0x00 -> "removable";
            case 0x01 -> "fixed";
            case 0x03 -> "optical";
            case 0x0e -> "logical evidence";
            case 0x10 -> "memory";
            default -> "unknown (" + type + ")";
        };
    }

    @Override
    public void close() throws IOException {
        for (ChunkTable t : tables) {
            t.clear();
        }
        IOException first = null;
        for (Storage s : segments) {
            for (CompressedBlocks b : blocks.get(s)) {
                b.clear();
            }
            try {
                s.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
