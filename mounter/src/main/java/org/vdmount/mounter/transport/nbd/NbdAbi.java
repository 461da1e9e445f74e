package org.vdmount.mounter.transport.nbd;

import org.vdmount.mounter.jna.LibC;

/**
 * The kernel nbd driver's ioctl interface, from Linux include/uapi/linux/nbd.h; the behaviour
 * described here is that of drivers/block/nbd.c (6.1, Debian 12's kernel). Every ioctl takes its
 * argument by value and needs CAP_SYS_ADMIN.
 */
final class NbdAbi {
    private NbdAbi() {
    }

    private static final int TYPE = 0xab;

    /** Hands the kernel one connected socket; may be called several times (one per connection). */
    static final long SET_SOCK = LibC.ioc(LibC.IOC_NONE, TYPE, 0, 0);
    /** Logical block size in bytes: a power of two from 512 to the page size. */
    static final long SET_BLKSIZE = LibC.ioc(LibC.IOC_NONE, TYPE, 1, 0);
    /** Device size in bytes. */
    static final long SET_SIZE = LibC.ioc(LibC.IOC_NONE, TYPE, 2, 0);
    /** Starts the device and blocks until every connection is gone. */
    static final long DO_IT = LibC.ioc(LibC.IOC_NONE, TYPE, 3, 0);
    /** Shuts the sockets down and fails whatever is queued: allowed from any process. */
    static final long CLEAR_SOCK = LibC.ioc(LibC.IOC_NONE, TYPE, 4, 0);
    /** Sends NBD_CMD_DISC on every connection: allowed from any process. */
    static final long DISCONNECT = LibC.ioc(LibC.IOC_NONE, TYPE, 8, 0);
    /** Seconds a request may take before the kernel gives up on the connection. */
    static final long SET_TIMEOUT = LibC.ioc(LibC.IOC_NONE, TYPE, 9, 0);
    /** The transmission flags a server would send in its handshake. */
    static final long SET_FLAGS = LibC.ioc(LibC.IOC_NONE, TYPE, 10, 0);
}
