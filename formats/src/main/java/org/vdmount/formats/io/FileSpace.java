package org.vdmount.formats.io;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * How long a file is and how much space it takes on disk, as {@code du} and {@code qemu-img info}
 * count it (holes take none): Java's file attributes have no st_blocks, so statx(2) is asked, through
 * {@link Libc}. Its struct has one layout on every architecture, unlike struct stat.
 */
public final class FileSpace {
    private static final int AT_FDCWD = -100;
    private static final int AT_STATX_SYNC_AS_STAT = 0;
    private static final int STATX_SIZE = 0x200;
    private static final int STATX_BLOCKS = 0x400;
    private static final int STATX_STRUCT_BYTES = 256;
    private static final int MASK_OFFSET = 0;
    private static final int SIZE_OFFSET = 40;
    private static final int BLOCKS_OFFSET = 48;
    /** st_blocks counts 512-byte units whatever the file system's block size. */
    private static final int BLOCK_UNIT = 512;

    /** {@code size} is the file's length; {@code allocated} the bytes its blocks take. */
    public record Usage(long size, long allocated) {
    }

    private FileSpace() {
    }

    /**
     * The length and allocated space of {@code file} (a symbolic link is followed), or null when
     * they cannot be asked: no such file, no permission, or no statx in this libc or kernel.
     */
    public static Usage of(Path file) {
        byte[] raw = new byte[STATX_STRUCT_BYTES];
        try {
            Libc.Statx.statx(AT_FDCWD, file.toString(), AT_STATX_SYNC_AS_STAT, STATX_SIZE | STATX_BLOCKS, raw);
        } catch (LastErrorException | LinkageError e) {
            return null;
        }
        ByteBuffer statx = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        int mask = statx.getInt(MASK_OFFSET);
        if ((mask & (STATX_SIZE | STATX_BLOCKS)) != (STATX_SIZE | STATX_BLOCKS)) {
            return null; // a file system that cannot tell
        }
        return new Usage(statx.getLong(SIZE_OFFSET), statx.getLong(BLOCKS_OFFSET) * BLOCK_UNIT);
    }
}
