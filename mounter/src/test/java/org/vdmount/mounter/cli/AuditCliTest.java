package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.audit.JsonLines;

/** The audit trail as users meet it, through verify (which needs no kernel): lines, options, failures. */
class AuditCliTest {
    @TempDir
    Path dir;

    @Test
    void verifyRecordsItsImageAndResultAndTheEnvironmentNamesTheFile() throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), new byte[3 << 20]);
        Path log = dir.resolve("by-env/audit.jsonl");
        Cli.Result r = Cli.run(dir, Map.of("VDMOUNT_AUDIT_LOG", log.toString(), "SUDO_USER", "examiner",
                "SUDO_UID", "1234"), "verify", "--hash", "md5", "disk.img");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.err());
        List<Map<String, Object>> lines = JsonLines.read(log);
        assertEquals(1, lines.size());
        Map<String, Object> line = lines.get(0);
        assertEquals("verify", line.get("event"));
        assertEquals(List.of("vdmount", "verify", "--hash", "md5", "disk.img"), line.get("command"));
        assertEquals(dir.toString(), line.get("cwd"));
        @SuppressWarnings("unchecked")
        Map<String, Object> user = (Map<String, Object>) line.get("user");
        assertEquals("examiner", user.get("sudo-user"));
        assertEquals(1234L, user.get("sudo-uid"));
        @SuppressWarnings("unchecked")
        Map<String, Object> file = ((List<Map<String, Object>>) line.get("images")).get(0);
        assertEquals(image.toString(), file.get("path"));
        assertEquals((long) (3 << 20), file.get("size"));
        String md5 = java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("MD5").digest(Files.readAllBytes(image)));
        assertEquals(Map.of("md5", md5), line.get("hashes"));
        assertEquals("hashed", line.get("result"));
    }

    @Test
    void noAuditWritesNothingAndAnUnwritableLogIsOneLineOnStderr() throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
        Path log = dir.resolve("audit.jsonl");
        Cli.Result off = Cli.run(dir, Map.of("VDMOUNT_AUDIT_LOG", log.toString()), "verify", "--no-audit", "disk.img");
        assertEquals(0, off.exit(), off.toString());
        assertFalse(Files.exists(log), "--no-audit writes nothing");

        Path blocked = Files.writeString(dir.resolve("not-a-directory"), "");
        String unwritable = blocked.resolve("audit.jsonl").toString();
        Cli.Result lenient = Cli.run(dir, "verify", "--audit-log", unwritable, image.toString());
        assertEquals(0, lenient.exit(), "by default the command goes on: " + lenient);
        assertTrue(lenient.out().startsWith("SHA256 ("), lenient.toString());
        assertEquals(1, lenient.err().lines().count(), lenient.toString());
        assertTrue(lenient.err().startsWith("vdmount: warning: cannot write the audit log " + unwritable + ": "),
                lenient.err());

        Cli.Result strict = Cli.run(dir, "verify", "--audit-required", "--audit-log", unwritable, image.toString());
        assertEquals(1, strict.exit(), strict.toString());
        assertEquals("", strict.out(), "nothing is hashed when the record could not be written");
        assertEquals(1, strict.err().lines().count(), strict.toString());
        assertTrue(strict.err().endsWith("(required by --audit-required): nothing was done\n"), strict.err());

        Cli.Result contradiction = Cli.run(dir, "verify", "--no-audit", "--audit-required", image.toString());
        assertEquals(2, contradiction.exit(), contradiction.toString());
    }

    @Test
    void aFailedVerifyIsRecordedWithItsError() throws Exception {
        Path image = Files.write(dir.resolve("cut.qcow2"), new byte[0]);
        Path log = dir.resolve("audit.jsonl");
        Cli.run(dir, "verify", "--audit-log", log.toString(), "--hash", "sha1", image.toString());
        Files.write(image, new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3}); // a qcow2 header cut short
        Cli.Result r = Cli.run(dir, "verify", "--audit-log", log.toString(), image.toString());
        assertEquals(1, r.exit(), r.toString());
        List<Map<String, Object>> lines = JsonLines.read(log);
        assertEquals(2, lines.size());
        assertEquals("hashed", lines.get(0).get("result"));
        String error = (String) lines.get(1).get("error");
        assertTrue(error != null && r.err().contains(error), lines.get(1) + " / " + r.err());
    }
}
