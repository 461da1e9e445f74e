package org.vdmount.formats.qcow2;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.vdmount.formats.VirtualDisk;

/**
 * The child process of {@link Qcow2CrashTest}: writes numbered 4 KiB slots of a qcow2 image in an
 * order fixed by a seed, flushes now and then, and prints "flushed N" once every write up to N is
 * durable, until it is killed.
 */
public final class CrashWriter {
    static final int SLOT = 4096;
    static final int MAX_WRITES = 1_000_000;

    private CrashWriter() {
    }

    /** The slot write {@code i} goes to, the same in the child and in the checker. */
    static int[] slots(long seed, int slotCount) {
        Random random = new Random(seed);
        int[] slots = new int[MAX_WRITES];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = random.nextInt(slotCount);
        }
        return slots;
    }

    /** Every tenth write is a discard instead. */
    static boolean isDiscard(int i) {
        return i % 10 == 7;
    }

    /** What write {@code i} puts in its slot: its number, then a byte derived from it. */
    static ByteBuffer content(int i) {
        ByteBuffer b = ByteBuffer.allocate(SLOT);
        b.putLong(0, i + 1L);
        for (int at = 8; at < SLOT; at++) {
            b.put(at, (byte) (i * 31 + at));
        }
        return b;
    }

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        try (VirtualDisk disk = WriteChecks.openWritable(image)) {
            int[] slots = slots(seed, (int) (disk.size() / SLOT));
            Random flushes = new Random(seed + 1);
            int nextFlush = 1 + flushes.nextInt(40);
            for (int i = 0; i < MAX_WRITES; i++) {
                if (isDiscard(i)) {
                    disk.discard((long) slots[i] * SLOT, SLOT); // a zero slot, told apart by number 0
                } else {
                    disk.write(content(i), (long) slots[i] * SLOT);
                }
                if (i == nextFlush) {
                    disk.flush();
                    System.out.println("flushed " + i);
                    System.out.flush();
                    nextFlush = i + 1 + flushes.nextInt(40);
                }
            }
        }
    }
}
