package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.testing.TestImages;

/** The picocli-free forms of the short commands print exactly what picocli's would. */
class QuickCommandsTest {
    @TempDir
    Path dir;

    /** Output and exit status of one run, in this JVM, through the quick path or through picocli. */
    private record Run(Integer exit, String out, String err) {
    }

    private static Run run(boolean quick, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        StringWriter picocliErr = new StringWriter();
        Integer exit;
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            if (quick) {
                exit = QuickCommands.run(args);
            } else {
                var cl = VdmountCommand.commandLine(args[0]);
                cl.setErr(new PrintWriter(picocliErr, true));
                exit = cl.execute(args);
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8) + picocliErr);
    }

    private void assertSame(String... args) {
        Run quick = run(true, args);
        assertNotNull(quick.exit(), "the quick path should take " + String.join(" ", args));
        assertEquals(run(false, args), quick, String.join(" ", args));
    }

    @Test
    void printsWhatPicocliPrints() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, TestImages.pattern(1 << 20, 3));
        assertSame("--version");
        assertSame("-V");
        assertSame("info", image.toString());
        assertSame("info", "--json", image.toString());
        assertSame("info", image.toString(), "--json");
        assertSame("info", dir.resolve("missing.img").toString()); // the one-line error, status 1
        assertSame("info", dir.toString());
        assertSame("list");
        assertSame("list", "--json");
        assertNotNull(QuickCommands.run("cat", image.toString(), "-o", "/dev/null")); // (standard output is fd 1 itself)
        Path out = dir.resolve("out.raw");
        assertSame("cat", image.toString(), "-o", out.toString());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(out));
        assertSame("cat", "--output", out.toString(), image.toString());
        assertSame("cat", image.toString(), "-o", image.toString()); // refused: it is the image
        assertSame("verify", image.toString());
        assertSame("verify", "--hash", "MD5", "--hash", "sha1", image.toString(), "--json");
        assertSame("verify", image.toString(), "--hash", "sha512", "--hash", "sha512");
    }

    @Test
    void leavesEverythingElseToPicocli() {
        assertNull(QuickCommands.run());
        assertNull(QuickCommands.run("info"));
        assertNull(QuickCommands.run("info", "--help"));
        assertNull(QuickCommands.run("info", "--snapshot", "s1", "disk.qcow2"));
        assertNull(QuickCommands.run("info", "a.img", "b.img"));
        assertNull(QuickCommands.run("info", "--json", "--json", "a.img"));
        assertNull(QuickCommands.run("info", "-"));
        assertNull(QuickCommands.run("list", "a.img"));
        assertNull(QuickCommands.run("list", "--all"));
        assertNull(QuickCommands.run("--version", "info"));
        assertNull(QuickCommands.run("verify", "--hash", "crc32", "a.img"));
        assertNull(QuickCommands.run("verify", "--hash", "a.img"));
        assertNull(QuickCommands.run("cat", "a.img", "--offset", "1M"));
        assertNull(QuickCommands.run("cat", "a.img", "-o", "x", "-o", "y"));
        assertNull(QuickCommands.run("cat", "a.img", "-ox"));
        assertNull(QuickCommands.run("cat", "a.img", "-o"));
        assertNull(QuickCommands.run("cat", "a.img", "--scan-zeros", "-o", "x"));
        assertNull(QuickCommands.run("a.img"));
    }
}
