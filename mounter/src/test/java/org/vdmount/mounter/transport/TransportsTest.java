package org.vdmount.mounter.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.vdmount.mounter.util.UserError;

class TransportsTest {
    @Test
    void autoPicksAUsableTransport() {
        // This host (and CI) has /dev/fuse and loop devices, so there is always at least FUSE.
        assertTrue(Transports.choose("auto").availability().usable());
        assertEquals("fuse", Transports.choose("fuse").name());
    }

    @Test
    void autoPrefersAbuseThenUblkThenNbdThenFuse() {
        assertEquals(List.of("abuse", "ublk", "nbd", "fuse"), Transports.all().stream().map(Transport::name).toList());
    }

    @Test
    void anUnavailableTransportIsRefusedWithItsReasonInOneLine() {
        Transport nbd = Transports.byName("nbd").orElseThrow();
        // Only where the kernel has no nbd (this host, CI): elsewhere there is nothing to refuse.
        assumeFalse(nbd.availability().usable());
        UserError e = assertThrows(UserError.class, () -> Transports.choose("nbd"));
        assertTrue(e.getMessage().startsWith("transport nbd is unavailable: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        // ... and auto passes over it.
        assertNotEquals("nbd", Transports.choose("auto").name());
    }

    @Test
    void unknownTransportSaysWhatExists() {
        UserError e = assertThrows(UserError.class, () -> Transports.choose("carrier-pigeon"));
        assertTrue(e.getMessage().startsWith("unknown transport 'carrier-pigeon' (this build has: auto, "), e.getMessage());
        assertTrue(e.getMessage().contains("fuse"), e.getMessage());
    }
}
