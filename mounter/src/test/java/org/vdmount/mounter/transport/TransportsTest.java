package org.vdmount.mounter.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vdmount.mounter.cli.UserError;

class TransportsTest {
    @Test
    void autoPicksAUsableTransport() {
        // This host (and CI) has /dev/fuse and loop devices, so there is always at least FUSE.
        assertTrue(Transports.choose("auto").availability().usable());
        assertEquals("fuse", Transports.choose("fuse").name());
    }

    @Test
    void unknownTransportSaysWhatExists() {
        UserError e = assertThrows(UserError.class, () -> Transports.choose("carrier-pigeon"));
        assertTrue(e.getMessage().startsWith("unknown transport 'carrier-pigeon' (this build has: auto, "), e.getMessage());
        assertTrue(e.getMessage().contains("fuse"), e.getMessage());
    }
}
