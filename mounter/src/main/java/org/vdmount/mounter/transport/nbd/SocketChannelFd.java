package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.jna.LibC;

/**
 * A blocking ByteChannel over a socket descriptor made outside Java (by socketpair(2)), which Java
 * 17 cannot wrap in a SocketChannel. Direct buffers are read into and sent from in place; heap
 * buffers go through a bounce buffer. {@link #shutdown} wakes a thread blocked in {@link #read};
 * the descriptor itself is closed by {@link #close}, which the serving thread calls once it is
 * done, so the number is never reused under a reader.
 */
final class SocketChannelFd implements ByteChannel {
    private static final int BOUNCE_SIZE = 64 * 1024;

    private final int fd;
    private volatile boolean open = true;
    private ByteBuffer bounce;

    SocketChannelFd(int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (!dst.isDirect()) {
            ByteBuffer b = bounce(dst.remaining());
            int n = read(b);
            if (n > 0) {
                dst.put(b.flip());
            }
            return n;
        }
        while (true) {
            try {
                long n = LibC.INSTANCE.read(fd, at(dst), dst.remaining());
                if (n == 0) {
                    return -1;
                }
                dst.position(dst.position() + (int) n);
                return (int) n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new IOException("socket read failed: errno " + e.getErrorCode());
                }
            }
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ensureOpen();
        if (!src.hasRemaining()) {
            return 0;
        }
        if (!src.isDirect()) {
            ByteBuffer b = bounce(src.remaining());
            int at = src.position();
            b.put(src.duplicate().limit(at + b.remaining())).flip();
            int n = write(b);
            src.position(at + n);
            return n;
        }
        while (true) {
            try {
                long n = LibC.INSTANCE.send(fd, at(src), src.remaining(), LibC.MSG_NOSIGNAL);
                src.position(src.position() + (int) n);
                return (int) n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new IOException("socket write failed: errno " + e.getErrorCode()
                            + (e.getErrorCode() == Errno.EPIPE ? " (the kernel closed the connection)" : ""));
                }
            }
        }
    }

    /** Ends the connection in both directions; a blocked read returns end-of-stream. */
    synchronized void shutdown() {
        if (open) {
            try {
                LibC.INSTANCE.shutdown(fd, LibC.SHUT_RDWR);
            } catch (LastErrorException e) {
                // not connected any more: nothing to end
            }
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public synchronized void close() {
        if (open) {
            open = false;
            LibC.INSTANCE.close(fd);
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }

    private ByteBuffer bounce(int wanted) {
        if (bounce == null) {
            bounce = ByteBuffer.allocateDirect(BOUNCE_SIZE);
        }
        return bounce.clear().limit(Math.min(wanted, BOUNCE_SIZE));
    }

    /** Where the buffer's next byte is in memory (JNA's pointer is to the buffer's start). */
    private static Pointer at(ByteBuffer direct) {
        return Native.getDirectBufferPointer(direct).share(direct.position());
    }
}
