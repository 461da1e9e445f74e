package org.vdmount.mounter.serve.kill;

import java.nio.ByteBuffer;

/**
 * What each write puts in each 512-byte sector, so that any sector of a killed image tells which
 * write it came from: the write's number and the sector's own number, then bytes derived from both
 * (with a short period, so that the initial content compresses in a compressed qcow2). A sector
 * holding anything else, or another sector's data, is recognised as such.
 */
final class SectorPattern {
    static final int SECTOR = 512;
    /** {@link #identify}: the sector is all zeros. */
    static final long ZERO = -1;
    /** {@link #identify}: the sector holds what no write put there. */
    static final long GARBAGE = -2;
    /** The write number of an image's initial content. */
    static final long INITIAL = 0;

    private static final int HEADER = 16;
    private static final int PERIOD = 61;

    private SectorPattern() {
    }

    /** Fills {@code sectors} sectors of {@code dst} (from its position) as write {@code write} at {@code firstSector}. */
    static void fill(ByteBuffer dst, long write, long firstSector, int sectors) {
        for (int i = 0; i < sectors; i++) {
            long sector = firstSector + i;
            int base = dst.position();
            dst.putLong(write).putLong(sector);
            int seed = seed(write, sector);
            for (int at = HEADER; at < SECTOR; at++) {
                dst.put(base + at, (byte) (seed + at % PERIOD));
            }
            dst.position(base + SECTOR);
        }
    }

    /**
     * Which write the sector at {@code at} of {@code bytes} holds, as sector number {@code sector}:
     * its number, {@link #ZERO} or {@link #GARBAGE}.
     */
    static long identify(byte[] bytes, int at, long sector) {
        ByteBuffer b = ByteBuffer.wrap(bytes, at, SECTOR).slice();
        long write = b.getLong(0);
        if (write == 0 && b.getLong(8) == 0 && isZero(bytes, at)) {
            return ZERO;
        }
        if (write < 0 || b.getLong(8) != sector) {
            return GARBAGE;
        }
        int seed = seed(write, sector);
        for (int i = HEADER; i < SECTOR; i++) {
            if (bytes[at + i] != (byte) (seed + i % PERIOD)) {
                return GARBAGE;
            }
        }
        return write;
    }

    private static int seed(long write, long sector) {
        return (int) (write * 0x9E3779B1L + sector * 31);
    }

    private static boolean isZero(byte[] bytes, int at) {
        for (int i = 0; i < SECTOR; i++) {
            if (bytes[at + i] != 0) {
                return false;
            }
        }
        return true;
    }
}
