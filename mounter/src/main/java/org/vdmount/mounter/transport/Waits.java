package org.vdmount.mounter.transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.function.BooleanSupplier;

/** Bounded polling: the kernel announces nothing we could wait on without udev (device nodes, sysfs). */
public final class Waits {
    private Waits() {
    }

    /** Whether {@code condition} became true within {@code millis}, looking every 20 ms. */
    public static boolean until(BooleanSupplier condition, long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            pause(20);
        }
        return true;
    }

    public static void pause(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the device");
        }
    }
}
