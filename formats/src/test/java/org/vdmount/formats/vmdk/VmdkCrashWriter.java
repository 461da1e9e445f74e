package org.vdmount.formats.vmdk;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;

/**
 * The child process {@link VmdkCrashTest} kills: writes slot after slot of a VMDK (see
 * {@link #slot}), flushing every few writes and printing "flushed N" once writes 0 to N-1 are
 * durable, until it is killed (or has written every slot and prints "done").
 */
public final class VmdkCrashWriter {
    static final int SLOT = 24576;
    static final int FLUSH_EVERY = 7;

    private VmdkCrashWriter() {
    }

    /** Write {@code i}: where it goes (an unaligned offset in a slot of its own) and how long it is. */
    static long offset(int i, int slots) {
        long slot = (i * 7919L) % slots; // a permutation of the slots, as slots is not a multiple of 7919
        return slot * SLOT + (i % 7) * 100;
    }

    static int length(int i) {
        return 20_000 + (i % 5) * 333;
    }

    static int slots(long size) {
        return (int) (size / SLOT);
    }

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        try (VirtualDisk disk = Images.open(image, new OpenOptions(null, 0, true), w -> { })) {
            int slots = slots(disk.size());
            System.out.println("ready");
            System.out.flush();
            for (int i = 0; i < slots; i++) {
                disk.write(ByteBuffer.wrap(org.vdmount.formats.testing.TestImages.pattern(length(i), i)),
                        offset(i, slots));
                if ((i + 1) % FLUSH_EVERY == 0) {
                    disk.flush();
                    System.out.println("flushed " + (i + 1));
                    System.out.flush();
                }
            }
            disk.flush();
            System.out.println("flushed " + slots);
            System.out.println("done");
            System.out.flush();
            Thread.sleep(60_000); // killed before this ends
        }
    }
}
