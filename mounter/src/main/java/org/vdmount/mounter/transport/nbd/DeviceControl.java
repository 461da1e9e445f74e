package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import org.vdmount.mounter.jna.LibC;

/**
 * Stopping a device from any process, the server's or another: the two ioctls the kernel accepts
 * from whoever has CAP_SYS_ADMIN, not only from the thread that set the device up.
 */
final class DeviceControl {
    private DeviceControl() {
    }

    /**
     * Writes out what the page cache holds for the device (so it reaches the image while the server
     * still answers), then asks the kernel to send NBD_CMD_DISC on every connection: the server
     * answers what came before it, closes its sockets, and the device stops.
     */
    static void disconnect(int index, boolean flushFirst) throws IOException {
        int fd = open(index);
        try {
            if (flushFirst) {
                try {
                    LibC.INSTANCE.fsync(fd);
                } catch (LastErrorException e) {
                    // a dead connection fails the flush; disconnecting is still right
                }
            }
            LibC.INSTANCE.ioctl(fd, NbdAbi.DISCONNECT, 0L);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot disconnect it: " + KernelDevice.errnoText(e.getErrorCode()));
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** Shuts the device's sockets down at once and fails every request still queued with EIO. */
    static void clearSockets(int index) throws IOException {
        int fd = open(index);
        try {
            LibC.INSTANCE.ioctl(fd, NbdAbi.CLEAR_SOCK, 0L);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot clear its sockets: " + KernelDevice.errnoText(e.getErrorCode()));
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    private static int open(int index) throws IOException {
        try {
            // Read-only: the ioctls need no more, and a read-only device refuses a writer.
            return LibC.INSTANCE.open("/dev/nbd" + index, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot open it: " + KernelDevice.errnoText(e.getErrorCode()));
        }
    }
}
