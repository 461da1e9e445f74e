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

    public static final int EPOLL_CLOEXEC = 02000000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 0x1;
    /** Of several epoll instances watching one file, a wake-up reaches one, not all. */
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    /** struct epoll_event is packed on x86-64: uint32 events, then uint64 data. */
    public static final int EPOLL_EVENT_SIZE = 12;

    public static native int epoll_create1(int flags) throws LastErrorException;

    public static native int epoll_ctl(int epfd, int op, int fd, long eventAddress) throws LastErrorException;

    public static native int epoll_wait(int epfd, long eventsAddress, int maxEvents, int timeoutMillis)
            throws LastErrorException;

    /**
     * syscall(2), for the system calls glibc has no wrapper for (io_uring_setup, io_uring_enter):
     * glibc's syscall() takes its arguments from the registers as a plain function would, so the
     * unused ones are passed as 0.
     */
    public static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6)
            throws LastErrorException;

    public static native long pread(int fd, long bufAddress, long count, long offset) throws LastErrorException;

    public static native long pwrite(int fd, long bufAddress, long count, long offset) throws LastErrorException;
}
