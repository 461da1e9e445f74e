package org.vdmount.formats.ewf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.RelatedFile;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.io.FileStorage;

/**
 * Opens an EWF set from its first segment: walks each segment's section chain, following "next"
 * to the following segment until "done", and collects the volume geometry, the chunk tables and
 * the acquisition records. Every value read is bounded before it is used.
 */
final class EwfOpener {
    /** File header: signature, 0x01, segment number (16 bits), 0x0000. */
    private static final int FILE_HEADER_BYTES = 13;
    /** A segment of a million sections is not a real one. */
    private static final int MAX_SECTIONS = 1 << 20;
    private static final int TABLE_HEADER_BYTES = 24;
    private static final int MAX_CHUNK_BYTES = 32768 * 512;
    private static final int MAX_ERROR_ENTRIES = 1 << 20;

    private final OpenContext context;
    private final List<Storage> segments = new ArrayList<>();
    private final List<ChunkTable> tables = new ArrayList<>();
    private final Acquisition acquisition = new Acquisition();
    private Volume volume;
    private long chunks;
    private long sectorsEnd = -1;

    /** The volume section's geometry. */
    record Volume(int mediaType, long chunkCount, int sectorsPerChunk, int bytesPerSector, long sectorCount,
            int mediaFlags, int compressionLevel, String format) {
        int chunkBytes() {
            return sectorsPerChunk * bytesPerSector;
        }

        long mediaSize() {
            return sectorCount * bytesPerSector;
        }
    }

    private EwfOpener(OpenContext context) {
        this.context = context;
    }

    static VirtualDisk open(Storage first, OpenContext context) throws IOException {
        if (context.isTop() && context.options().writable()) {
            throw new ImageException(first.name(), "EWF evidence is read-only: --rw is refused"
                    + " (--overlay keeps changes in a file of their own)");
        }
        EwfOpener opener = new EwfOpener(context);
        try {
            return opener.openSet(first);
        } catch (IOException | RuntimeException e) {
            // The first segment is closed by the caller; the others are ours.
            for (int i = 1; i < opener.segments.size(); i++) {
                opener.segments.get(i).close();
            }
            throw e;
        }
    }

    private VirtualDisk openSet(Storage first) throws IOException {
        segments.add(first);
        boolean done = walk(first, 1);
        while (!done) {
            int number = segments.size() + 1;
            if (number > SegmentNames.MAX_SEGMENTS) {
                throw new ImageException(first.name(), "has more than " + SegmentNames.MAX_SEGMENTS + " segments");
            }
            Storage next = openSegment(first, number);
            segments.add(next);
            done = walk(next, number);
        }
        if (volume == null) {
            throw new ImageException(first.name(), "has no volume section: not a disk image (a logical L01 set?)");
        }
        long needed = (volume.mediaSize() + volume.chunkBytes() - 1) / volume.chunkBytes();
        if (chunks < needed) {
            throw new ImageException(first.name(), "its tables list " + chunks + " chunks, but the media ("
                    + volume.mediaSize() + " bytes) needs " + needed + ": segments are missing or truncated");
        }
        long fileBytes = 0;
        List<String> names = new ArrayList<>();
        for (Storage s : segments) {
            fileBytes += s.size();
            names.add(s.name());
        }
        return new EwfDisk(first.name(), volume, acquisition, tables, segments, names, fileBytes);
    }

    private Storage openSegment(Storage first, int number) throws IOException {
        Path firstPath = first.path().orElseThrow(() -> new ImageException(first.name(),
                "has more segments, which can only be found next to a file"));
        String fileName = firstPath.getFileName().toString();
        if (!SegmentNames.isFirst(fileName)) {
            throw new ImageException(first.name(), "is the first of several segments, but its name does not end"
                    + " in .E01 (or SMART's .s01), from which the others' names follow");
        }
        String name = SegmentNames.name(fileName, number);
        if (name == null) {
            throw new ImageException(first.name(), "has more segments than its naming allows (" + number + ")");
        }
        Path path = context.find(first, RelatedFile.of("segment", name).exact(name, null)
                .wantedBy("segment " + number + " of the set"));
        String shown = first.name().substring(0, first.name().length() - fileName.length()) + name;
        // Not locked: the first segment, locked as the image, stands for the set (OpenContext.openFile).
        return FileStorage.openReadOnly(path, shown);
    }

    /** Reads a segment's sections; returns true when it ends the set ("done"). */
    private boolean walk(Storage segment, int number) throws IOException {
        long size = segment.size();
        ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        segment.readFully(header, 0);
        if (!Arrays.equals(Arrays.copyOf(header.array(), 8), EwfFormat.SIGNATURE)) {
            throw new ImageException(segment.name(), "is not an EWF segment file (no EVF signature)");
        }
        int stored = Short.toUnsignedInt(header.getShort(9));
        if (stored != number) {
            throw new ImageException(segment.name(), "is segment " + stored + " of its set, expected segment "
                    + number + (number == 1 ? ": open the set by its first segment (.E01)" : " (out of order)"));
        }
        sectorsEnd = -1;
        long at = FILE_HEADER_BYTES;
        for (int n = 0; n < MAX_SECTIONS; n++) {
            if (at + Section.DESCRIPTOR_BYTES > size) {
                throw new ImageException(segment.name(), "is truncated: its section chain stops at offset " + at
                        + " (file of " + size + " bytes) before a 'next' or 'done' section");
            }
            Section s = Section.read(segment, at);
            switch (s.type()) {
                case "done" -> {
                    return true;
                }
                case "next" -> {
                    return false;
                }
                case "header2" -> acquisition.header(data(segment, s, 1 << 20), true);
                case "header" -> acquisition.header(data(segment, s, 1 << 20), false);
                case "volume", "disk" -> volume(segment, s);
                case "sectors" -> sectorsEnd = s.size() > 0 ? s.offset() + s.size() : s.next();
                case "table" -> table(segment, s);
                case "table2" -> table2(segment, s);
                case "hash" -> hash(segment, s);
                case "xhash" -> acquisition.xhash(data(segment, s, 1 << 20));
                case "digest" -> digest(segment, s);
                case "error2" -> errors(segment, s);
                default -> {
                    // data (a copy of volume), session, xheader...: nothing reading needs.
                }
            }
            if (s.next() <= at || s.next() > size) {
                throw new ImageException(segment.name(), "section '" + s.type() + "' at offset " + at
                        + " points to the next at " + s.next() + (s.next() > size ? ", past the end of the file ("
                        + size + " bytes): truncated?" : ", not after itself"));
            }
            at = s.next();
        }
        throw new ImageException(segment.name(), "has more than " + MAX_SECTIONS + " sections");
    }

    private static byte[] data(Storage segment, Section s, int max) throws IOException {
        long length = s.dataSize() > 0 ? s.dataSize() : s.next() - s.dataOffset();
        if (length < 0 || length > max) {
            throw new ImageException(segment.name(), "section '" + s.type() + "' at offset " + s.offset()
                    + " claims " + length + " bytes of data (at most " + max + " expected)");
        }
        byte[] b = new byte[(int) length];
        segment.readFully(ByteBuffer.wrap(b), s.dataOffset());
        return b;
    }

    private void volume(Storage segment, Section s) throws IOException {
        if (volume != null) {
            return;
        }
        byte[] b = data(segment, s, 4096);
        ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        boolean encase = b.length >= 1052;
        if (!encase && b.length < 94) {
            throw new ImageException(segment.name(), "volume section at offset " + s.offset() + " is too short ("
                    + b.length + " bytes)");
        }
        int checked = encase ? 1048 : 90;
        if (!Checksums.valid(b, 0, checked)) {
            throw new ImageException(segment.name(), "volume section at offset " + s.offset()
                    + " is damaged: Adler-32 checksum mismatch");
        }
        long chunkCount = Integer.toUnsignedLong(v.getInt(4));
        int spc = v.getInt(8);
        int bps = v.getInt(12);
        long sectors = encase ? v.getLong(16) : Integer.toUnsignedLong(v.getInt(16));
        if (spc <= 0 || bps <= 0 || bps > 65536 || (long) spc * bps > MAX_CHUNK_BYTES) {
            throw new ImageException(segment.name(), "volume section has impossible geometry: " + spc
                    + " sectors of " + bps + " bytes per chunk");
        }
        if (sectors < 0 || sectors > Long.MAX_VALUE / bps / 2) {
            throw new ImageException(segment.name(), "volume section has an impossible sector count " + sectors);
        }
        volume = new Volume(encase ? b[0] & 0xff : -1, chunkCount, spc, bps, sectors, encase ? b[36] & 0xff : 0,
                encase ? b[52] & 0xff : -1, encase ? "EnCase/FTK/linen (1052-byte volume)" : "EWF/SMART (94-byte volume)");
    }

    private void table(Storage segment, Section s) throws IOException {
        byte[] h = new byte[TABLE_HEADER_BYTES];
        segment.readFully(ByteBuffer.wrap(h), s.dataOffset());
        boolean headerValid = Checksums.valid(h, 0, 20);
        ChunkTable.Copy copy = null;
        int count = 0;
        if (headerValid) {
            ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
            count = b.getInt(0);
            if (count <= 0 || count > ChunkTable.MAX_ENTRIES) {
                throw new ImageException(segment.name(), "table at offset " + s.offset() + " claims "
                        + Integer.toUnsignedString(count) + " entries");
            }
            copy = copy(segment, s, b.getLong(8), count);
        }
        // The chunks are in the sectors section just before the table (EnCase 2 and later), or in
        // the table section itself (EWF, SMART, EnCase 1).
        long dataEnd = sectorsEnd > 0 ? sectorsEnd : (s.size() > 0 ? s.offset() + s.size() : s.next());
        sectorsEnd = -1;
        if (copy == null) {
            // Damaged header: table2 may stand in for it; until then the table has no entries.
            pendingDamaged = new long[] {s.offset(), dataEnd};
            return;
        }
        pendingDamaged = null;
        add(new ChunkTable(segment, chunks, count, dataEnd, copy));
    }

    /** A table whose header is damaged, waiting for its table2 copy: {section offset, data end}. */
    private long[] pendingDamaged;

    private void table2(Storage segment, Section s) throws IOException {
        byte[] h = new byte[TABLE_HEADER_BYTES];
        segment.readFully(ByteBuffer.wrap(h), s.dataOffset());
        if (!Checksums.valid(h, 0, 20)) {
            if (pendingDamaged != null) {
                throw new ImageException(segment.name(), "table at offset " + pendingDamaged[0]
                        + " and its table2 copy at offset " + s.offset() + " are both damaged");
            }
            return; // the table itself is good
        }
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        int count = b.getInt(0);
        if (count <= 0 || count > ChunkTable.MAX_ENTRIES) {
            if (pendingDamaged != null) {
                throw new ImageException(segment.name(), "table2 at offset " + s.offset() + " claims "
                        + Integer.toUnsignedString(count) + " entries");
            }
            return;
        }
        ChunkTable.Copy copy = copy(segment, s, b.getLong(8), count);
        if (pendingDamaged != null) {
            context.warn(segment.name() + ": table at offset " + pendingDamaged[0]
                    + " is damaged; its table2 copy is used");
            ChunkTable t = new ChunkTable(segment, chunks, count, pendingDamaged[1], copy);
            pendingDamaged = null;
            add(t);
            return;
        }
        ChunkTable last = tables.isEmpty() ? null : tables.get(tables.size() - 1);
        if (last != null && last.storage() == segment && last.count() == count) {
            last.alternate(copy);
        }
    }

    private ChunkTable.Copy copy(Storage segment, Section s, long base, int count) throws IOException {
        long entries = s.dataOffset() + TABLE_HEADER_BYTES;
        long afterEntries = entries + 4L * count;
        // The entries' Adler-32 follows them, except in the original EWF and SMART formats, whose
        // table section holds the chunks straight after the entries: the first chunk says which.
        ByteBuffer first = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        segment.readFully(first, entries);
        long firstChunk = base + (Integer.toUnsignedLong(first.getInt(0)) & 0x7fffffffL);
        boolean footer = firstChunk != afterEntries;
        return new ChunkTable.Copy(s.type(), entries, base, footer);
    }

    private void add(ChunkTable t) throws ImageException {
        if (pendingDamaged != null) {
            throw new ImageException(t.storage().name(), "table at offset " + pendingDamaged[0]
                    + " is damaged and has no table2 copy");
        }
        tables.add(t);
        chunks += t.count();
    }

    private void hash(Storage segment, Section s) throws IOException {
        byte[] b = data(segment, s, 4096);
        if (b.length >= 36 && Checksums.valid(b, 0, 32)) {
            acquisition.md5(Arrays.copyOf(b, 16));
        } else {
            context.warn(segment.name() + ": hash section at offset " + s.offset() + " is damaged; its MD5 is ignored");
        }
    }

    private void digest(Storage segment, Section s) throws IOException {
        byte[] b = data(segment, s, 4096);
        if (b.length >= 80 && Checksums.valid(b, 0, 76)) {
            acquisition.md5(Arrays.copyOfRange(b, 0, 16));
            acquisition.sha1(Arrays.copyOfRange(b, 16, 36));
        } else {
            context.warn(segment.name() + ": digest section at offset " + s.offset() + " is damaged; its hashes are ignored");
        }
    }

    private void errors(Storage segment, Section s) throws IOException {
        byte[] h = new byte[520];
        segment.readFully(ByteBuffer.wrap(h), s.dataOffset());
        if (!Checksums.valid(h, 0, 516)) {
            throw new ImageException(segment.name(), "error2 section at offset " + s.offset()
                    + " is damaged: Adler-32 checksum mismatch (the list of unreadable sectors is lost)");
        }
        int count = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (count < 0 || count > MAX_ERROR_ENTRIES) {
            throw new ImageException(segment.name(), "error2 section claims " + Integer.toUnsignedString(count) + " entries");
        }
        byte[] e = new byte[8 * count + 4];
        segment.readFully(ByteBuffer.wrap(e), s.dataOffset() + 520);
        if (!Checksums.valid(e, 0, 8 * count)) {
            throw new ImageException(segment.name(), "error2 entries at offset " + (s.dataOffset() + 520)
                    + " are damaged: Adler-32 checksum mismatch");
        }
        ByteBuffer b = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            acquisition.errors().add(new Acquisition.ErrorRange(Integer.toUnsignedLong(b.getInt(8 * i)),
                    Integer.toUnsignedLong(b.getInt(8 * i + 4))));
        }
    }
}
