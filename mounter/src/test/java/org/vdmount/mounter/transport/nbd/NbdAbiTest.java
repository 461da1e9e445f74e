package org.vdmount.mounter.transport.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The numbers must be those of include/uapi/linux/nbd.h: _IO(0xab, n), and the protocol's flag bits. */
class NbdAbiTest {
    @Test
    void ioctlNumbersAreThoseOfTheKernelHeader() {
        assertEquals(0xab00, NbdAbi.SET_SOCK);
        assertEquals(0xab01, NbdAbi.SET_BLKSIZE);
        assertEquals(0xab02, NbdAbi.SET_SIZE);
        assertEquals(0xab03, NbdAbi.DO_IT);
        assertEquals(0xab04, NbdAbi.CLEAR_SOCK);
        assertEquals(0xab08, NbdAbi.DISCONNECT);
        assertEquals(0xab09, NbdAbi.SET_TIMEOUT);
        assertEquals(0xab0a, NbdAbi.SET_FLAGS);
    }
}
