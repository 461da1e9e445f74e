package org.vdmount.mounter.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The libc calls made once per batch of block requests, bound by JNA's direct mapping: a static
 * native method costs a fraction of an interface-mapped call (no proxy, no reflection, no boxed
 * argument array), which shows in the 4 KiB IOPS of a server thread. Addresses are passed as
 * plain longs ({@code Pointer.nativeValue}). {@link LibC} keeps every other call.
 */
public final class HotCalls {
    static {
        Native.register("c");
    }

    private HotCalls() {
    }

    public static native int ioctl(int fd, long request, long argAddress) throws LastErrorException;

    /** {@code fdsAddress} points to struct pollfd[] (int fd; short events; short revents). */
    public static native int poll(long fdsAddress, long nfds, int timeoutMillis) throws LastErrorException;
}
