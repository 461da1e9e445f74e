package org.vdmount.mounter.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.vdmount.mounter.gateway.Capabilities;
import org.vdmount.mounter.system.Errno;

/** The flags and errors both NBD users (vdmount serve and the kernel's nbd) take from one place. */
class NbdProtocolNumbersTest {
    private static final Capabilities READ_ONLY = new Capabilities(false, false, false, false, true);
    private static final Capabilities WRITABLE = new Capabilities(true, true, true, true, true);

    @Test
    void flagsSayWhatTheDiskMayDo() {
        // HAS_FLAGS | READ_ONLY | SEND_FLUSH | CAN_MULTI_CONN (the kernel needs it for a second socket)
        assertEquals(0x107, NbdProtocol.transmissionFlags(READ_ONLY, false));
        // HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES | CAN_MULTI_CONN
        assertEquals(0x16d, NbdProtocol.transmissionFlags(WRITABLE, false));
        // ... | SEND_DF once structured replies are on
        assertEquals(0x187, NbdProtocol.transmissionFlags(READ_ONLY, true));
        assertEquals(0x007, NbdProtocol.transmissionFlags(new Capabilities(false, false, false, false, false), false));
    }

    @Test
    void errnoValuesBecomeTheProtocolsFew() {
        assertEquals(NbdProtocol.EPERM, NbdProtocol.errorFor(Errno.EROFS));
        assertEquals(NbdProtocol.EPERM, NbdProtocol.errorFor(Errno.EPERM));
        assertEquals(NbdProtocol.EIO, NbdProtocol.errorFor(Errno.EIO));
        assertEquals(NbdProtocol.ENOSPC, NbdProtocol.errorFor(Errno.EDQUOT));
        assertEquals(NbdProtocol.ENOMEM, NbdProtocol.errorFor(Errno.ENOMEM));
        assertEquals(NbdProtocol.ENOTSUP, NbdProtocol.errorFor(Errno.ENOTSUP));
        assertEquals(NbdProtocol.EINVAL, NbdProtocol.errorFor(Errno.EBUSY), "unknown to NBD: EINVAL");
    }
}
