package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Storage;

/**
 * Replays a VHDX log in memory (MS-VHDX section 2.3): finds the active sequence (the newest valid
 * entry of the header's log GUID, back to the tail it names, every entry valid and numbered one
 * after the other) and applies its zero and data descriptors, in order, to a {@link PatchedStorage}.
 * The image file is never written: a dirty image reads as it would after a replay, and stays as it
 * was found.
 */
final class LogReplay {
    static final int ENTRY_SIGNATURE = 0x65676f6c; // "loge"
    static final int ZERO_SIGNATURE = 0x6f72657a; // "zero"
    static final int DATA_SIGNATURE = 0x63736564; // "desc"
    static final int SECTOR_SIGNATURE = 0x61746164; // "data"
    static final int SECTOR = 4096;
    /** The bytes of data sectors replayed in memory, at most: a real log is 1 MiB. */
    static final long MAX_REPLAY_BYTES = 64L << 20;

    /** What a replay did, for info and warnings. */
    record Result(int entries, long firstSequence, long lastSequence, int dataSectors, int zeroRanges) {
    }

    private record Entry(long offset, long length, long tail, long sequence, int descriptors,
            long lastFileOffset) {
    }

    private final Storage storage;
    private final VhdxHeader header;
    private final String file;

    LogReplay(Storage storage, VhdxHeader header) {
        this.storage = storage;
        this.header = header;
        this.file = storage.name();
    }

    /** Replays the log into {@code target}; null when the log holds no active sequence. */
    Result replay(PatchedStorage target) throws IOException {
        long logLength = header.logLength();
        long logOffset = header.logOffset();
        if (logLength == 0 || logLength % (1 << 20) != 0 || logOffset % (1 << 20) != 0 || logOffset < (1 << 20)
                || logOffset + logLength > storage.size()) {
            throw new ImageException(file, "log of " + logLength + " bytes at offset " + logOffset
                    + " is misplaced or lies outside the " + storage.size() + "-byte file");
        }
        Entry head = null;
        for (long at = 0; at < logLength; at += SECTOR) {
            Entry e = entry(at);
            if (e != null && (head == null || e.sequence() > head.sequence())) {
                head = e;
            }
        }
        if (head == null) {
            return null;
        }
        List<Entry> sequence = new ArrayList<>();
        long at = head.tail();
        long expected = -1;
        while (true) {
            Entry e = entry(at);
            if (e == null || (expected >= 0 && e.sequence() != expected) || sequence.size() > logLength / SECTOR) {
                throw new ImageException(file, "the log's active sequence (entries " + (expected < 0 ? "?" : expected)
                        + " to " + head.sequence() + ") is broken at log offset " + at
                        + ": the log is damaged and cannot be replayed");
            }
            sequence.add(e);
            if (e.offset() == head.offset()) {
                break;
            }
            expected = e.sequence() + 1;
            at = (e.offset() + e.length()) % logLength;
        }
        int data = 0;
        int zeros = 0;
        long bytes = 0;
        for (Entry e : sequence) {
            int[] counts = apply(e, target);
            data += counts[0];
            zeros += counts[1];
            bytes += (long) counts[0] * SECTOR;
            if (bytes > MAX_REPLAY_BYTES) {
                throw new ImageException(file, "the log writes more than " + (MAX_REPLAY_BYTES >> 20)
                        + " MiB: more than vdmount replays in memory");
            }
        }
        target.extendTo(head.lastFileOffset());
        return new Result(sequence.size(), sequence.get(0).sequence(), head.sequence(), data, zeros);
    }

    /** The valid entry at log offset {@code at}, or null. */
    private Entry entry(long at) throws IOException {
        ByteBuffer h = read(at, 64);
        if (h.getInt(0) != ENTRY_SIGNATURE || !Guids.read(h, 32).equals(header.logGuid())) {
            return null;
        }
        long length = Integer.toUnsignedLong(h.getInt(8));
        long sequence = h.getLong(16);
        long descriptors = Integer.toUnsignedLong(h.getInt(24));
        if (length < SECTOR || length % SECTOR != 0 || length > header.logLength() || sequence == 0
                || length > MAX_REPLAY_BYTES || descriptorArea(descriptors) > length) {
            return null;
        }
        ByteBuffer whole = read(at, (int) length);
        if (Checksums.crc32c(whole, (int) length, 4) != Integer.toUnsignedLong(whole.getInt(4))) {
            return null;
        }
        int dataSectors = 0;
        for (int i = 0; i < descriptors; i++) {
            int d = 64 + 32 * i;
            int signature = whole.getInt(d);
            if ((signature != ZERO_SIGNATURE && signature != DATA_SIGNATURE) || whole.getLong(d + 24) != sequence) {
                return null;
            }
            if (signature == DATA_SIGNATURE) {
                dataSectors++;
            }
        }
        if (descriptorArea(descriptors) + (long) dataSectors * SECTOR > length) {
            return null;
        }
        long tail = Integer.toUnsignedLong(h.getInt(12));
        if (tail % SECTOR != 0 || tail >= header.logLength()) {
            return null;
        }
        return new Entry(at, length, tail, sequence, (int) descriptors, h.getLong(56));
    }

    private static long descriptorArea(long descriptors) {
        return (64 + 32 * descriptors + SECTOR - 1) / SECTOR * SECTOR;
    }

    /** Applies one entry; returns {data sectors, zero ranges}. */
    private int[] apply(Entry e, PatchedStorage target) throws IOException {
        ByteBuffer whole = read(e.offset(), (int) e.length());
        long sectorAt = descriptorArea(e.descriptors());
        int data = 0;
        int zeros = 0;
        for (int i = 0; i < e.descriptors(); i++) {
            int d = 64 + 32 * i;
            long fileOffset = whole.getLong(d + 16);
            if (fileOffset < 0 || fileOffset % SECTOR != 0) {
                throw new ImageException(file, "log entry " + e.sequence() + " writes at unaligned file offset "
                        + fileOffset);
            }
            if (whole.getInt(d) == ZERO_SIGNATURE) {
                long length = whole.getLong(d + 8);
                if (length < 0 || length % SECTOR != 0 || length > (1L << 46)) {
                    throw new ImageException(file, "log entry " + e.sequence() + " zeroes " + length + " bytes");
                }
                target.zero(fileOffset, length);
                zeros++;
                continue;
            }
            int s = (int) sectorAt;
            long seq = Integer.toUnsignedLong(whole.getInt(s + 4)) << 32 | Integer.toUnsignedLong(whole.getInt(s + 4092));
            if (whole.getInt(s) != SECTOR_SIGNATURE || seq != e.sequence()) {
                throw new ImageException(file, "log entry " + e.sequence() + " has a damaged data sector");
            }
            byte[] sector = new byte[SECTOR];
            whole.get(d + 8, sector, 0, 8); // leading bytes, kept in the descriptor
            whole.get(s + 8, sector, 8, 4084);
            whole.get(d + 4, sector, 4092, 4); // trailing bytes
            target.write(fileOffset, sector);
            sectorAt += SECTOR;
            data++;
        }
        return new int[] {data, zeros};
    }

    /** Bytes of the circular log from log offset {@code at}, wrapping at its end. */
    private ByteBuffer read(long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        long logLength = header.logLength();
        long first = Math.min(length, logLength - at);
        storage.readFully(b.slice(0, (int) first), header.logOffset() + at);
        if (first < length) {
            storage.readFully(b.slice((int) first, (int) (length - first)), header.logOffset());
        }
        return b;
    }
}
