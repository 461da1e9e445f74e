package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every check of an option's value: a mistake on the command line exits 2 with one line that says
 * what is wrong and one that says where to read more, as the README promises; a refusal of the
 * image or the system exits 1 with one line. Run in this JVM: nothing here gets as far as
 * launching a server.
 */
class UsageErrorsTest {
    @TempDir
    Path dir;

    private record Outcome(int exit, String err) {
    }

    private Outcome vdmount(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = VdmountCommand.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        return new Outcome(cl.execute(args), err.toString());
    }

    private void assertUsage(String expected, String... args) {
        Outcome o = vdmount(args);
        String command = String.join(" ", args);
        assertEquals(2, o.exit(), command + ": " + o.err());
        List<String> lines = o.err().strip().lines().toList();
        assertEquals(2, lines.size(), command + ": " + o.err());
        assertTrue(lines.get(0).startsWith("vdmount: ") && lines.get(0).contains(expected), command + ": " + o.err());
        assertTrue(lines.get(1).matches("Try 'vdmount( \\w+)? --help' for more information\\."), o.err());
        assertFalse(o.err().contains("Exception"), o.err());
    }

    private void assertRefused(String expected, String... args) {
        Outcome o = vdmount(args);
        assertEquals(1, o.exit(), String.join(" ", args) + ": " + o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
        assertTrue(o.err().startsWith("vdmount: ") && o.err().contains(expected), o.err());
    }

    @Test
    void everyBadOptionValueExitsTwo() throws Exception {
        String image = Files.write(dir.resolve("disk.img"), new byte[65536]).toString();
        String mnt = Files.createDirectory(dir.resolve("mnt")).toString();
        assertUsage("unknown transport 'bogus'", "attach", "--transport", "bogus", image);
        assertUsage("unknown transport 'bogus'", "mount", "--transport", "bogus", image, "1", mnt);
        assertUsage("--threads must be between 1 and 64", "attach", "--threads", "0", image);
        assertUsage("--index must be 0 or more", "attach", "--index", "-5", image);
        assertUsage("--read-only contradicts --rw", "attach", "--read-only", "--rw", image);
        assertUsage("--read-only contradicts --overlay", "mount", "--read-only", "--overlay", "o.ovl", image, "1", mnt);
        assertUsage("--rw and --overlay exclude each other", "attach", "--rw", "--overlay", "o.ovl", image);
        assertUsage("--rw cannot write into an internal snapshot", "attach", "--rw", "--snapshot", "s", image);
        assertUsage("--overlay cannot go with --snapshot", "attach", "--overlay", "o.qcow2", "--snapshot", "s", image);
        assertUsage("--overlay cannot go with --disk", "serve", "--overlay", "o.qcow2", "--disk", "2", image);
        assertUsage("--disk counts from 1", "info", "--disk", "-1", image);
        assertUsage("--force-share is for reading: a writer always locks the image", "attach", "--rw", "--force-share",
                image);
        assertUsage("--force-share is for reading", "serve", "--rw", "-U", image);
        assertUsage("--force-share is for reading", "mount", "--rw", "-U", image, "1", mnt);
        assertUsage("--disk counts from 1", "attach", "--disk", "-1", image);
        assertUsage("PARTITION must be a number", "mount", image, "first", mnt);
        assertUsage("--offset 1048576 is past the end", "cat", "--offset", "1M", image);
        assertUsage("runs past the end", "cat", "--offset", "60K", "--length", "8K", image);
        assertUsage("--threads must be at least 1", "cat", "--threads", "0", image);
        assertUsage("detach needs a DEVICE, IMAGE or ID", "detach");
        assertUsage("not a TCP port", "serve", "--port", "-1", image);
        assertUsage("Invalid value for option '--offset'", "cat", "--offset", "12Q", image);
        assertUsage("Unknown option: '--bogus'", "info", "--bogus", image);
        assertUsage("Missing required parameter", "mount", image);
    }

    @Test
    void refusalsOfTheImageOrTheSystemExitOne() throws Exception {
        String image = Files.write(dir.resolve("disk.img"), new byte[65536]).toString();
        assertRefused("missing.img: no such file", "info", "missing.img");
        assertRefused("missing.img: no such file", "attach", "missing.img");
        assertRefused("a raw image is one disk: --disk 1 is for containers of several disks (OVA)",
                "info", "--disk", "1", image);
        assertRefused("raw images have no internal snapshots", "cat", "--snapshot", "s", image);
        assertRefused("not attached", "detach", "/dev/nonesuch");
        assertRefused(dir.resolve("nodir") + ": not a directory", "mount", image, "1", dir.resolve("nodir").toString());
    }

    @Test
    void aMistypedCommandIsNamedWithTheClosestOne() {
        assertUsage("unknown command 'atach' (did you mean 'attach'?)", "atach", "x");
        assertUsage("unknown command 'lsit' (did you mean 'list'?)", "lsit");
        assertUsage("unknown command 'vrify' (did you mean 'verify'?)", "vrify", "disk.img");
        assertUsage("unknown command 'frobnicate'", "frobnicate");
        assertFalse(vdmount("frobnicate").err().contains("did you mean"));
        assertUsage("missing.qcow2: no such file (and not a command)", "missing.qcow2");
    }
}
