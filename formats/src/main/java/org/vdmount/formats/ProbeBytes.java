package org.vdmount.formats;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What probing looks at: the first bytes of a file and its last sector, where fixed VHDs and Apple
 * disk images keep their signature. Both are read-only views; formats read them with absolute gets.
 *
 * @param head the first {@link #HEAD_BYTES} bytes (fewer if the file is shorter)
 * @param tail the last {@link #TAIL_BYTES} bytes (empty if the file is shorter)
 * @param size the file's size in bytes
 */
public record ProbeBytes(ByteBuffer head, ByteBuffer tail, long size) {
    public static final int HEAD_BYTES = 64 * 1024;
    public static final int TAIL_BYTES = 512;

    /** Reads what probing needs from {@code storage}. */
    public static ProbeBytes read(Storage storage) throws IOException {
        long size = Math.max(0, storage.size());
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(HEAD_BYTES, size));
        fill(storage, head, 0);
        ByteBuffer tail = ByteBuffer.allocate(size >= TAIL_BYTES ? TAIL_BYTES : 0);
        fill(storage, tail, size - tail.capacity());
        return new ProbeBytes(head.flip().asReadOnlyBuffer(), tail.flip().asReadOnlyBuffer(), size);
    }

    /** Only a head, as tests and callers that have no file give it. */
    public static ProbeBytes ofHead(ByteBuffer head) {
        return new ProbeBytes(head.slice().asReadOnlyBuffer(), ByteBuffer.allocate(0), head.remaining());
    }

    /** Whether the head holds {@code bytes} (ASCII) at {@code offset}. */
    public boolean headHas(int offset, String bytes) {
        return has(head, offset, bytes);
    }

    /** Whether the tail holds {@code bytes} (ASCII) at {@code offset}. */
    public boolean tailHas(int offset, String bytes) {
        return has(tail, offset, bytes);
    }

    private static boolean has(ByteBuffer b, int offset, String bytes) {
        if (offset < 0 || b.remaining() < offset + bytes.length()) {
            return false;
        }
        for (int i = 0; i < bytes.length(); i++) {
            if (b.get(b.position() + offset + i) != (byte) bytes.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static void fill(Storage storage, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            if (storage.readAt(b, at + b.position()) < 0) {
                break;
            }
        }
    }
}
