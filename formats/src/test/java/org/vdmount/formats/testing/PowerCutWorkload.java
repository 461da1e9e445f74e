package org.vdmount.formats.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.vdmount.formats.VirtualDisk;

/**
 * The guest side of a power-cut test: writes of 1 to 16 numbered 4 KiB slots, discards and
 * flushes, at random, remembering what each slot got from which operation, where in the
 * {@link PowerCutLog} each operation began and where each flush returned; then, for a cut at a
 * point of the log, which contents each sector of the disk may hold.
 */
public final class PowerCutWorkload {
    public static final int SLOT = 4096;
    private static final int SECTOR = PowerCutLog.SECTOR;
    private static final int SECTORS = SLOT / SECTOR;
    /** What a slot holds before any write: the image's first content. */
    private static final int INITIAL = -1;
    /** An operation that left zeros (discard). */
    private static final int ZEROS = -2;

    private final int slots;
    private final int operations;
    /** Per slot, the operations that changed it, in order: {operation, its content or ZEROS}. */
    private final List<List<int[]>> history = new ArrayList<>();
    private final int[] began;
    /** {the flush's operation, the log position when it returned}. */
    private final List<int[]> flushed = new ArrayList<>();

    public PowerCutWorkload(long diskSize, int operations) {
        this.slots = (int) (diskSize / SLOT);
        this.operations = operations;
        this.began = new int[operations];
        for (int s = 0; s < slots; s++) {
            history.add(new ArrayList<>());
        }
    }

    public void run(VirtualDisk disk, PowerCutLog log, Random random) throws Exception {
        for (int op = 0; op < operations; op++) {
            began[op] = log.position();
            int kind = random.nextInt(10);
            int count = random.nextInt(4) == 0 ? 1 + random.nextInt(16) : 1;
            int first = random.nextInt(slots - count + 1);
            if (kind < 7) {
                ByteBuffer data = ByteBuffer.allocate(count * SLOT);
                for (int s = first; s < first + count; s++) {
                    for (int sector = 0; sector < SECTORS; sector++) {
                        data.put(content(op, s, sector));
                    }
                    history.get(s).add(new int[] {op, op});
                }
                disk.write(data.flip(), (long) first * SLOT);
            } else if (kind < 9) {
                disk.discard((long) first * SLOT, (long) count * SLOT);
                for (int s = first; s < first + count; s++) {
                    history.get(s).add(new int[] {op, ZEROS});
                }
            } else {
                disk.flush();
                flushed.add(new int[] {op, log.position()});
            }
        }
    }

    /** How many flushes the guest asked for. */
    public int flushes() {
        return flushed.size();
    }

    /**
     * Checks {@code disk} (the disk's bytes as read after a cut at {@code point}; {@code initial},
     * before the writes): each sector of each slot holds what the slot had at the last flush that
     * returned before the cut, or what a later operation that had begun before the cut left there.
     */
    public void verify(byte[] disk, byte[] initial, int point, String where) {
        int durable = 0; // the operations before this one were flushed
        for (int[] f : flushed) {
            if (f[1] <= point) {
                durable = f[0];
            }
        }
        List<String> wrong = new ArrayList<>();
        for (int s = 0; s < slots && wrong.size() < 5; s++) {
            List<Integer> allowed = new ArrayList<>();
            int base = INITIAL;
            for (int[] event : history.get(s)) {
                if (event[0] < durable) {
                    base = event[1];
                } else if (began[event[0]] < point) {
                    allowed.add(event[1]);
                }
            }
            allowed.add(0, base);
            for (int sector = 0; sector < SECTORS; sector++) {
                int at = s * SLOT + sector * SECTOR;
                byte[] got = Arrays.copyOfRange(disk, at, at + SECTOR);
                boolean ok = false;
                for (int content : allowed) {
                    ok |= Arrays.equals(got, expected(content, s, sector, initial, at));
                }
                if (!ok) {
                    wrong.add("slot " + s + " sector " + sector + " holds " + describe(got, initial, at) + "; allowed: " + allowed
                            + " (-1 the first content, -2 zeros; flushed up to operation " + durable + ")");
                }
            }
        }
        if (!wrong.isEmpty()) {
            fail(where + ": " + wrong);
        }
    }

    private static byte[] expected(int content, int slot, int sector, byte[] initial, int at) {
        return switch (content) {
            case INITIAL -> Arrays.copyOfRange(initial, at, at + SECTOR);
            case ZEROS -> new byte[SECTOR];
            default -> content(content, slot, sector);
        };
    }

    private static String describe(byte[] sector, byte[] initial, int at) {
        long tag = ByteBuffer.wrap(sector).getLong();
        int op = (int) ((tag >>> 24) - 1);
        int slot = (int) ((tag >>> 3) & 0x1fffff);
        if (op >= 0 && Arrays.equals(sector, content(op, slot, (int) (tag & 7)))) {
            return "operation " + op + "'s bytes for slot " + slot + " sector " + (tag & 7);
        }
        return Arrays.equals(sector, expected(INITIAL, 0, 0, initial, at)) ? "the first content"
                : Arrays.equals(sector, new byte[SECTOR]) ? "zeros" : "bytes no operation wrote";
    }

    /** What operation {@code op} writes to one sector of a slot: a tag naming all three, then bytes derived from it. */
    static byte[] content(int op, int slot, int sector) {
        long tag = ((op + 1L) << 24) | ((long) slot << 3) | sector;
        ByteBuffer b = ByteBuffer.allocate(SECTOR);
        b.putLong(tag);
        long x = tag * 0x9E3779B97F4A7C15L;
        while (b.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b.putLong(x);
        }
        return b.array();
    }
}
