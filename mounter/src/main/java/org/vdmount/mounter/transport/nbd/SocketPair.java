package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import org.vdmount.mounter.jna.LibC;

/**
 * Two connected Unix stream sockets: one end for the kernel (NBD_SET_SOCK), one for our server.
 * A socket pair rather than a listening socket: nothing to name, nothing another process could
 * connect to, and each end closes when its owner dies.
 *
 * @param kernelEnd  descriptor handed to the kernel, closed here once the kernel holds it
 * @param serverEnd  descriptor our transmission loop reads requests from
 */
record SocketPair(int kernelEnd, int serverEnd) {

    static SocketPair open() throws IOException {
        int[] fds = new int[2];
        try {
            LibC.INSTANCE.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds);
        } catch (LastErrorException e) {
            throw new IOException("cannot make a socket pair for nbd: errno " + e.getErrorCode());
        }
        return new SocketPair(fds[0], fds[1]);
    }
}
