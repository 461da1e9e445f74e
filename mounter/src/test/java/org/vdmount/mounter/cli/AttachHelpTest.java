package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AttachHelpTest {
    @Test
    void everyAttachCommandHasHelp() {
        for (String command : new String[] {"attach", "detach", "list"}) {
            CommandLine cl = VdmountCommand.commandLine();
            StringWriter out = new StringWriter();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(command, "--help"), command);
            assertTrue(out.toString().startsWith("Usage: vdmount " + command), out.toString());
        }
    }

    @Test
    void attachHelpNamesEveryTransportAndWhatAutoDoes() {
        CommandLine cl = VdmountCommand.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("attach", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        assertTrue(help.contains("auto (the default: abuse if its module is loaded, else ublk if the kernel has it, "
                + "else nbd if the kernel has it, else fuse)"), help);
        assertTrue(help.contains("ublk (the kernel's ublk driver"), help);
        assertTrue(help.contains("/dev/ublkbN, partitions /dev/ublkbNpM"), help);
        assertTrue(help.contains("nbd (the kernel's nbd driver"), help);
        assertTrue(help.contains("/dev/nbdN"), help);
    }

    @Test
    void detachWantsATargetOrAll() {
        CommandLine cl = VdmountCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("detach"));
        assertEquals("vdmount: detach needs a DEVICE, IMAGE or ID, or --all (not both)\n"
                + "Try 'vdmount detach --help' for more information.", err.toString().strip());
    }
}
