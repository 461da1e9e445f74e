package org.vdmount.mounter.transport.fuse;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * read(2) and write(2) for the request loop, through JNA's direct mapping: one call per request
 * and reply, so the interface-proxy overhead of {@link LibC} would be paid on every read.
 */
final class DevFuse {
    static {
        Native.register("c");
    }

    private DevFuse() {
    }

    static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

    static native long write(int fd, Pointer buffer, long count) throws LastErrorException;
}
