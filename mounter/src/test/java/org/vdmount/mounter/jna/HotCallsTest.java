package org.vdmount.mounter.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;

/** The direct-mapped calls reach libc with their arguments intact and report errno. */
class HotCallsTest {

    @Test
    void pollSeesAReadableDescriptor() {
        int fd = LibC.INSTANCE.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
        try (Memory pollFd = new Memory(8)) {
            pollFd.clear();
            pollFd.setInt(0, fd);
            pollFd.setShort(4, LibC.POLLIN);
            assertEquals(1, HotCalls.poll(Pointer.nativeValue(pollFd), 1, 1000));
            assertEquals(LibC.POLLIN, pollFd.getShort(6) & LibC.POLLIN);
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    @Test
    void ioctlReportsErrno() {
        LastErrorException e = assertThrows(LastErrorException.class, () -> HotCalls.ioctl(-1, 0x1234, 0));
        assertEquals(9, e.getErrorCode()); // EBADF
    }
}
