package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ewf.Ewf;
import org.vdmount.formats.testing.TestImages;

/** verify and info on E01 evidence made by ewfacquire; --rw refused. */
class EvidenceCliTest {
    @TempDir
    Path dir;

    private Path evidence() throws Exception {
        Path raw = dir.resolve("disk.raw");
        TestImages.writePattern(raw, 0, 3 << 20, 11);
        return Ewf.acquire(dir, raw, "case", "fast", 64, 1 << 20, "encase6", true);
    }

    private String hash(String algorithm) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm)
                .digest(Files.readAllBytes(dir.resolve("disk.raw"))));
    }

    @Test
    void verifyChecksTheAcquisitionHashes() throws Exception {
        Path e01 = evidence();
        Cli.Result r = Cli.run(dir, "verify", e01.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("MD5 (" + e01 + ") = " + hash("MD5") + " (matches acquisition)\nSHA1 (" + e01 + ") = "
                + hash("SHA-1") + " (matches acquisition)\n", r.out());
        Cli.Result json = Cli.run(dir, "verify", "--json", e01.toString());
        assertTrue(json.out().contains("\"matches-acquisition\": true"), json.out());
    }

    @Test
    void aDamagedChunkIsOneLineAndExitOne() throws Exception {
        Path e01 = evidence();
        // A byte of the second chunk (after the header, header2 and volume sections' 1.8 KiB).
        try (RandomAccessFile f = new RandomAccessFile(e01.toFile(), "rw")) {
            long at = 13 + 3 * 1024 + 40_000;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x20);
        }
        Cli.Result r = Cli.run(dir, "verify", e01.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().startsWith("vdmount: " + e01 + ": ") && r.err().contains("chunk at virtual offset"),
                r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void aRecordThatDiffersIsAMismatchAndExitOne() throws Exception {
        Path e01 = evidence();
        Path last;
        try (var files = Files.list(dir)) {
            last = files.filter(p -> p.getFileName().toString().matches("case\\.E\\d\\d")).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
        byte[] other = new byte[16];
        other[0] = 1;
        Ewf.recordMd5(last, other);
        Cli.Result r = Cli.run(dir, "verify", e01.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("MD5 (" + e01 + ") = " + hash("MD5") + " (MISMATCH: acquisition recorded "
                + HexFormat.of().formatHex(other) + ")"), r.out());
        assertTrue(r.out().contains("(matches acquisition)"), "SHA-1 still matches: " + r.out());
    }

    @Test
    void aVmDiskInsideEvidenceOpensInOneStepAndVerifyChecksTheEvidence() throws Exception {
        Path raw = dir.resolve("disk.raw");
        TestImages.writePattern(raw, 0, 2 << 20, 12);
        Path vmdk = dir.resolve("vm.vmdk");
        TestImages.qemuImg(dir, "convert", "-f", "raw", "-O", "vmdk", raw.toString(), vmdk.toString());
        Path e01 = Ewf.acquire(dir, vmdk, "vm", "fast", 64, 0, "encase6", false);
        Cli.Result info = Cli.run(dir, "info", e01.toString());
        assertEquals(0, info.exit(), info.toString());
        assertTrue(info.out().contains("format:          vmdk"), info.out());
        assertTrue(info.out().contains("evidence.format: ewf E01"), info.out());
        assertTrue(info.out().contains("evidence.examiner: A. Examiner"), info.out());
        Cli.Result r = Cli.run(dir, "verify", e01.toString());
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(vmdk)));
        assertEquals("MD5 (" + e01 + ") = " + md5 + " (matches acquisition)\n", r.out());
    }

    @Test
    void infoShowsTheAcquisitionAndRwIsRefused() throws Exception {
        Path e01 = evidence();
        Cli.Result r = Cli.run(dir, "info", e01.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("case-number:") && r.out().contains("case 14"), r.out());
        assertTrue(r.out().contains("examiner:") && r.out().contains("A. Examiner"), r.out());
        assertTrue(r.out().contains("acquisition-md5: " + hash("MD5")), r.out());
        Cli.Result json = Cli.run(dir, "info", "--json", e01.toString());
        assertTrue(json.out().contains("\"evidence-number\": \"evidence 7\""), json.out());
        Cli.Result rw = Cli.run(dir, "attach", "--rw", e01.toString());
        assertEquals(1, rw.exit(), rw.toString());
        assertTrue(rw.err().contains("read-only: --rw is refused"), rw.err());
    }
}
