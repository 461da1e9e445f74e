package org.vdmount.mounter.serve.kill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.mounter.serve.kill.SectorPattern.SECTOR;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vdmount.mounter.serve.kill.WriteHistory.Kind;
import org.vdmount.mounter.serve.kill.WriteHistory.Op;

/** The kill test's judge on made-up images: what it must accept and what it must not. */
class WriteHistoryTest {
    private static final int SECTORS = 64;

    /** An image whose sectors hold the given write numbers ({@link SectorPattern#ZERO}: zeros). */
    private static byte[] image(long... writes) {
        ByteBuffer b = ByteBuffer.allocate(SECTORS * SECTOR);
        for (int s = 0; s < SECTORS; s++) {
            b.position(s * SECTOR);
            if (writes[s] != SectorPattern.ZERO) {
                SectorPattern.fill(b, writes[s], s, 1);
            }
        }
        return b.array();
    }

    private static long[] initial() {
        long[] sectors = new long[SECTORS];
        Arrays.fill(sectors, SectorPattern.INITIAL);
        return sectors;
    }

    /** Write 1 (sectors 0-7) flushed, write 2 (4-11) acknowledged but not flushed, write 3 (32-35) FUA. */
    private static WriteHistory history() {
        WriteHistory h = new WriteHistory(initial());
        h.sent(Kind.WRITE, 0, 8, false);
        h.acknowledged(0);
        h.flushed(h.sentCount());
        h.sent(Kind.WRITE, 4, 8, false);
        h.acknowledged(1);
        h.sent(Kind.WRITE_ZEROES, 32, 4, true);
        h.acknowledged(2);
        return h;
    }

    private static long[] holding(long[] base, int from, int to, long write) {
        long[] s = base.clone();
        Arrays.fill(s, from, to, write);
        return s;
    }

    @Test
    void flushedWritesWithOrWithoutLaterOnesPass() {
        long[] flushedOnly = holding(holding(initial(), 0, 8, 1), 32, 36, SectorPattern.ZERO);
        assertEquals(List.of(), history().verify(image(flushedOnly)).problems());
        // The later write landed in part: per sector, old or new.
        long[] partly = holding(flushedOnly, 4, 6, 2);
        partly[10] = 2;
        WriteHistory.Verdict v = history().verify(image(partly));
        assertEquals(List.of(), v.problems());
        assertEquals(2, v.durableOps());
        assertEquals(12, v.durableSectors());
    }

    @Test
    void aLostFlushedWriteAWrongPlaceOrGarbageFail() {
        long[] flushedOnly = holding(holding(initial(), 0, 8, 1), 32, 36, SectorPattern.ZERO);
        long[] lost = flushedOnly.clone();
        lost[3] = SectorPattern.INITIAL;
        assertTrue(history().verify(image(lost)).problems().get(0).startsWith("sector 3 "), "flushed write 1 lost");
        long[] fuaLost = flushedOnly.clone();
        fuaLost[33] = SectorPattern.INITIAL;
        assertEquals(1, history().verify(image(fuaLost)).problems().size(), "FUA write-zeroes lost");
        long[] misplaced = flushedOnly.clone();
        misplaced[20] = 2;
        assertEquals(1, history().verify(image(misplaced)).problems().size(), "write 2 where it never went");
        byte[] garbage = image(flushedOnly);
        garbage[40 * SECTOR + 100] ^= 1;
        assertTrue(history().verify(garbage).problems().get(0).contains("data no write put there"));
    }

    @Test
    void theNextLifeStartsFromWhatWasFound() {
        WriteHistory h = history();
        long[] found = holding(holding(initial(), 0, 8, 1), 32, 36, SectorPattern.ZERO);
        found[5] = 2;
        assertEquals(List.of(), h.verify(image(found)).problems());
        Op trim = h.sent(Kind.TRIM, 0, 8, false);
        assertEquals(4, trim.id());
        // Unflushed: the trim may or may not have happened, sector by sector.
        long[] after = found.clone();
        after[0] = SectorPattern.ZERO;
        assertEquals(List.of(), h.verify(image(after)).problems());
        // The life after that knows nothing of write 2 in sector 6: only what was found.
        after[6] = 2;
        assertEquals(1, h.verify(image(after)).problems().size());
    }
}
