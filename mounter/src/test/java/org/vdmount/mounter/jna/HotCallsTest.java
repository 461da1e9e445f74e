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

    @Test
    void epollWaitsAndTakesTheExclusiveFlag() {
        int outer = HotCalls.epoll_create1(HotCalls.EPOLL_CLOEXEC);
        int inner = HotCalls.epoll_create1(HotCalls.EPOLL_CLOEXEC);
        try (Memory event = new Memory(HotCalls.EPOLL_EVENT_SIZE)) {
            event.clear();
            event.setInt(0, HotCalls.EPOLLIN);
            long at = Pointer.nativeValue(event);
            assertEquals(0, HotCalls.epoll_ctl(outer, HotCalls.EPOLL_CTL_ADD, inner, at));
            assertEquals(0, HotCalls.epoll_wait(outer, at, 1, 20), "nothing is ready");
            // The kernel refuses exclusive watches of another epoll instance: proof the flag arrives.
            int third = HotCalls.epoll_create1(HotCalls.EPOLL_CLOEXEC);
            try {
                event.setInt(0, HotCalls.EPOLLIN | HotCalls.EPOLLEXCLUSIVE);
                LastErrorException e = assertThrows(LastErrorException.class,
                        () -> HotCalls.epoll_ctl(third, HotCalls.EPOLL_CTL_ADD, inner, at));
                assertEquals(22, e.getErrorCode()); // EINVAL
            } finally {
                LibC.INSTANCE.close(third);
            }
        } finally {
            LibC.INSTANCE.close(inner);
            LibC.INSTANCE.close(outer);
        }
    }
}
