package org.vdmount.mounter.serve.kill;

import static org.vdmount.mounter.serve.kill.SectorPattern.GARBAGE;
import static org.vdmount.mounter.serve.kill.SectorPattern.SECTOR;
import static org.vdmount.mounter.serve.kill.SectorPattern.ZERO;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * What a client did to an image and what the image must therefore hold after the server is killed.
 * Each sector's content is known as the number of the write it came from ({@link SectorPattern}).
 * The operations of the current server's life are kept in order, with what the client learnt of
 * each: acknowledged or not, and the point up to which an acknowledged FLUSH made them durable (the
 * client waits for every reply before it sends a FLUSH, so that point covers every earlier
 * operation), or durable on its own (an acknowledged FUA write).
 *
 * <p>After the kill, a sector must hold the content of its last durable operation or of any later
 * one the client sent (acknowledged or not: those may or may not have landed); with no durable
 * operation on it, what it held before this server's life is allowed too. Anything else is a lost
 * flushed write, or worse. The check is per sector, the unit a write lands in or not.
 */
final class WriteHistory {
    enum Kind { WRITE, WRITE_ZEROES, TRIM }

    record Op(long id, Kind kind, long sector, int sectors, boolean fua) {
        /** What the op leaves in each of its sectors. */
        long content() {
            return kind == Kind.WRITE ? id : ZERO;
        }
    }

    /** What one check found. */
    record Verdict(int durableOps, long durableSectors, List<String> problems) {
    }

    private final int sectorCount;
    /** What each sector held when the current server started (as checked after the last kill). */
    private final long[] before;
    private final List<Op> ops = new ArrayList<>();
    private final BitSet acked = new BitSet();
    /** Operations with a smaller index were made durable by an acknowledged FLUSH. */
    private int flushedUpTo;
    private long nextId = 1;

    /** A history whose image starts as {@code initial} says (a write number per sector). */
    WriteHistory(long[] initial) {
        this.sectorCount = initial.length;
        this.before = initial.clone();
    }

    int sectorCount() {
        return sectorCount;
    }

    /** Records an operation about to be sent; returns it (its id is the request's cookie). */
    Op sent(Kind kind, long sector, int sectors, boolean fua) {
        Op op = new Op(nextId++, kind, sector, sectors, fua);
        ops.add(op);
        return op;
    }

    /** The number of operations sent in this server's life: a FLUSH sent now covers them all. */
    int sentCount() {
        return ops.size();
    }

    Op op(int index) {
        return ops.get(index);
    }

    void acknowledged(int index) {
        acked.set(index);
    }

    boolean isAcknowledged(int index) {
        return acked.get(index);
    }

    /** A FLUSH sent when {@code sentCount} operations had been sent (all acknowledged) was acknowledged. */
    void flushed(int sentCount) {
        if (acked.nextClearBit(0) < sentCount) {
            throw new IllegalStateException("a FLUSH was sent before every earlier reply came");
        }
        flushedUpTo = Math.max(flushedUpTo, sentCount);
    }

    private boolean durable(int index) {
        return index < flushedUpTo || (ops.get(index).fua() && acked.get(index));
    }

    /**
     * Checks the image's content after a kill against this server's operations, then starts the
     * next server's life from that content.
     *
     * @param bytes the image as qemu reads it ({@code qemu-img convert -O raw})
     */
    Verdict verify(byte[] bytes) {
        int[] start = new int[sectorCount + 1];
        for (Op op : ops) {
            for (long s = op.sector(); s < op.sector() + op.sectors(); s++) {
                start[(int) s + 1]++;
            }
        }
        for (int s = 0; s < sectorCount; s++) {
            start[s + 1] += start[s];
        }
        int[] byIndex = new int[start[sectorCount]];
        int[] fill = start.clone();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            for (long s = op.sector(); s < op.sector() + op.sectors(); s++) {
                byIndex[fill[(int) s]++] = i;
            }
        }
        List<String> problems = new ArrayList<>();
        long durableSectors = 0;
        long[] found = new long[sectorCount];
        for (int s = 0; s < sectorCount; s++) {
            long held = SectorPattern.identify(bytes, s * SECTOR, s);
            found[s] = held;
            Integer floor = null;
            boolean allowed = false;
            for (int j = start[s + 1] - 1; j >= start[s]; j--) {
                int index = byIndex[j];
                allowed |= held == ops.get(index).content();
                if (durable(index)) {
                    floor = index;
                    durableSectors++;
                    break;
                }
            }
            if (!allowed && floor == null) {
                allowed = held == before[s];
            }
            if (!allowed && problems.size() < 20) {
                problems.add(describe(s, held, floor));
            }
        }
        int durableOps = 0;
        for (int i = 0; i < ops.size(); i++) {
            if (durable(i)) {
                durableOps++;
            }
        }
        if (problems.isEmpty()) {
            System.arraycopy(found, 0, before, 0, sectorCount);
        }
        ops.clear();
        acked.clear();
        flushedUpTo = 0;
        return new Verdict(durableOps, durableSectors, problems);
    }

    private String describe(int sector, long held, Integer floor) {
        String holds = held == GARBAGE ? "data no write put there" : held == ZERO ? "zeros" : "write " + held;
        String should = floor != null
                ? "its last flushed operation, " + ops.get(floor) + ", or a later one"
                : "what it held before (" + (before[sector] == ZERO ? "zeros" : "write " + before[sector])
                        + ") or an operation sent since";
        return "sector " + sector + " (offset " + (long) sector * SECTOR + ") holds " + holds + ", not " + should;
    }
}
