package org.vdmount.mounter.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vdmount.mounter.cli.VdmountCommand;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * The whole path on this host: an image with an ext4 partition attached through FUSE + loop by the
 * real command (background server and all), the partition mounted read-only, files compared,
 * detached, nothing left behind. {@link #attachMountCompareDetach} takes any image whose first
 * partition holds {@code files}: qcow2 and VMDK variants only need to build their image.
 */
class FuseAttachTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    private Path runDir;
    private String previousRunDir;

    @BeforeEach
    void useOwnRunDirectory() {
        runDir = dir.resolve("run");
        previousRunDir = System.getProperty("vdmount.run.dir");
        System.setProperty("vdmount.run.dir", runDir.toString());
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        try {
            vdmount("detach", "--all", "--force");
        } finally {
            if (previousRunDir == null) {
                System.clearProperty("vdmount.run.dir");
            } else {
                System.setProperty("vdmount.run.dir", previousRunDir);
            }
        }
        assertNothingLeft();
    }

    @Test
    void rawImageWithExt4Partition() throws Exception {
        Path files = sampleFiles();
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), files);
        attachMountCompareDetach(image, image, files);
    }

    @Test
    void qcow2AndVmdkImagesAttachLikeTheirRawSource() throws Exception {
        Path files = sampleFiles();
        Path raw = partitionedExt4Image(dir.resolve("source.raw"), files);
        Path qcow2 = dir.resolve("disk.qcow2");
        Shell.run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", raw.toString(), qcow2.toString());
        attachMountCompareDetach(qcow2, raw, files);
        Files.delete(dir.resolve("mnt"));
        Path vmdk = dir.resolve("disk.vmdk");
        Shell.run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.toString(),
                vmdk.toString());
        attachMountCompareDetach(vmdk, raw, files);
    }

    @Test
    void mountAndUmountOnePartition() throws Exception {
        Path files = sampleFiles();
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), files);
        byte[] before = Files.readAllBytes(image);
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Result mounted = vdmount("mount", image.toString(), "1", mnt.toString());
        assertEquals(0, mounted.status, mounted.err);
        assertTrue(mounted.out.startsWith("mounted /dev/loop"), mounted.out);
        assertEquals(checksums(files), checksums(mnt));
        Result missing = vdmount("mount", image.toString(), "7", dir.toString());
        assertEquals(2, missing.status, "a partition the image does not have is a mistake on the command line");
        assertTrue(missing.err.contains("has no partition 7 (it has: p1, p2)"), missing.err);

        // Another partition comes from the same attachment, and a failed mount says why, on one line.
        Path mnt2 = Files.createDirectory(dir.resolve("mnt2"));
        Result failed = vdmount("mount", "-t", "nosuchfs", image.toString(), "2", mnt2.toString());
        assertEquals(1, failed.status);
        assertEquals(1, failed.err.lines().count(), failed.err);
        String p2 = new RunDirectory(runDir).list().get(0).devices().get(2).path();
        assertTrue(failed.err.startsWith("vdmount: cannot mount " + p2 + " (partition 2, tried as nosuchfs) on " + mnt2
                + ": mount failed: mount: " + mnt2 + ": wrong fs type, bad option, bad superblock on " + p2), failed.err);
        assertFalse(failed.err.contains("  "), "no stray spaces: " + failed.err);
        Result unformatted = vdmount("mount", image.toString(), "2", mnt2.toString());
        assertEquals(1, unformatted.status);
        assertTrue(unformatted.err.startsWith("vdmount: cannot mount " + p2 + " (partition 2, no file system recognised)"),
                unformatted.err);
        assertEquals(1, new RunDirectory(runDir).list().size(), "one attachment serves both partitions");
        Result unmounted = vdmount("umount", mnt.toString());
        assertEquals(0, unmounted.status, unmounted.err);
        assertTrue(unmounted.out.startsWith("unmounted " + mnt + " and detached "), unmounted.out);
        assertNothingLeft();
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(image)), "the image is unchanged");
    }

    @Test
    void overlayTakesWritesThroughAPartitionAndLeavesTheImageAlone() throws Exception {
        Path files = sampleFiles();
        Path raw = partitionedExt4Image(dir.resolve("source.raw"), files);
        Path qcow2 = dir.resolve("disk.qcow2");
        Shell.run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString());
        String before = sha256(qcow2);
        Path overlay = dir.resolve("changes.ovl");
        Path mnt = Files.createDirectory(dir.resolve("mnt"));

        AttachedDevice p1 = attachWritable(qcow2, "--overlay", overlay.toString());
        Shell.run("mount", p1.path(), mnt.toString());
        try {
            Files.writeString(mnt.resolve("new.txt"), "written through the FUSE transport\n");
            Files.delete(mnt.resolve("sub/hello.txt"));
        } finally {
            Shell.run("umount", mnt.toString());
        }
        assertEquals(0, vdmount("detach", "--all").status);
        assertEquals(before, sha256(qcow2), "the image itself is untouched");

        Map<String, String> expected = new TreeMap<>(checksums(files));
        expected.remove("sub/hello.txt");
        expected.put("new.txt", sha256(Files.writeString(dir.resolve("new.txt"), "written through the FUSE transport\n")));
        // The second attach may get other loop devices (the first ones can still be on their way out).
        AttachedDevice again = attachWritable(qcow2, "--overlay", overlay.toString());
        Shell.run("mount", "-o", "ro", again.path(), mnt.toString());
        try {
            assertEquals(expected, checksums(mnt), "a second attach with the overlay sees the changes");
        } finally {
            Shell.run("umount", mnt.toString());
        }

        // The overlay is a qcow2 file qemu reads; committed (once detached), the image holds the writes.
        Result busy = vdmount("commit", overlay.toString());
        assertEquals(1, busy.status);
        assertEquals(1, busy.err.lines().count(), busy.err);
        assertTrue(busy.err.startsWith("vdmount: " + overlay + ": is attached (attachment "), busy.err);
        assertEquals(before, sha256(qcow2), "a refused commit changes nothing");
        assertEquals(0, vdmount("detach", "--all").status);
        assertTrue(Shell.run("qemu-img", "check", overlay.toString()).contains("No errors were found"));
        Path written = dir.resolve("written.raw");
        Shell.run("qemu-img", "convert", "-O", "raw", overlay.toString(), written.toString());
        Result committed = vdmount("commit", "--json", overlay.toString());
        assertEquals(0, committed.status, committed.err);
        for (String field : List.of("\"overlay\": \"" + overlay + "\"", "\"image\": \"" + qcow2 + "\"",
                "\"image-format\": \"qcow2\"", "\"overlay-emptied\": true")) {
            assertTrue(committed.out.contains(field), committed.out);
        }
        assertTrue(Shell.run("qemu-img", "check", qcow2.toString()).contains("No errors were found"));
        Path merged = dir.resolve("merged.raw");
        Shell.run("qemu-img", "convert", "-O", "raw", qcow2.toString(), merged.toString());
        assertEquals(sha256(written), sha256(merged), "the image now reads as the overlay did");
    }

    @Test
    void anImageIsAttachedOnceAndDetachByImageSaysWhatItDid() throws Exception {
        Path image = Files.write(dir.resolve("once.img"), new byte[8 << 20]);
        Result first = vdmount("attach", "--transport", "fuse", image.toString());
        assertEquals(0, first.status, first.err);
        String loop = first.out.split("\\s+")[0];
        Result again = vdmount("attach", "--transport", "fuse", image.toString());
        assertEquals(1, again.status);
        assertEquals(1, again.err.lines().count(), again.err);
        assertTrue(again.err.startsWith("vdmount: " + image + ": is attached already (attachment 0, read-only: " + loop
                + "); use those devices, or 'vdmount detach 0' first"), again.err);

        // Views that cannot disturb each other: read-only beside overlays, each overlay its own file.
        String a = dir.resolve("a.ovl").toString();
        assertEquals(0, vdmount("attach", "--transport", "fuse", "--overlay", a, image.toString()).status);
        Result sameOverlay = vdmount("attach", "--transport", "fuse", "--overlay", a, image.toString());
        assertEquals(1, sameOverlay.status);
        assertTrue(sameOverlay.err.contains("is attached already (attachment 1, overlay " + a), sameOverlay.err);
        assertEquals(0, vdmount("attach", "--transport", "fuse", "--overlay", dir.resolve("b.ovl").toString(),
                image.toString()).status);
        Result inPlace = vdmount("attach", "--transport", "fuse", "--rw", image.toString());
        assertEquals(1, inPlace.status);
        assertTrue(inPlace.err.contains("is attached already"), inPlace.err);

        Result list = vdmount("list");
        for (int id = 0; id < 3; id++) {
            assertTrue(list.out.contains("  log: " + runDir.resolve(id + ".log")), list.out);
        }
        Result detached = vdmount("detach", image.toString());
        assertEquals(0, detached.status, detached.err);
        List<String> lines = detached.out.lines().toList();
        assertEquals(3, lines.size(), detached.out);
        assertTrue(lines.get(0).startsWith("detached attachment 0 (read-only): " + loop), detached.out);
        assertTrue(lines.get(1).startsWith("detached attachment 1 (overlay " + a + "): /dev/loop"), detached.out);
        assertEquals("nothing is attached\n", vdmount("list").out);
        assertEquals("[]\n", vdmount("list", "--json").out);
        assertNothingLeft();
    }

    @Test
    void aDamagedImageLogsOneLinePerKindOfFailureInTheAttachmentsLog() throws Exception {
        Path image = dir.resolve("cut.qcow2");
        Shell.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
        Shell.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 8M 4M", image.toString());
        Shell.run("truncate", "-s", "1500K", image.toString()); // the data at 8M is cut off
        Result attached = vdmount("attach", "--transport", "fuse", image.toString());
        assertEquals(0, attached.status, attached.err);
        AttachmentRecord record = new RunDirectory(runDir).list().get(0);
        Path log = runDir.resolve(record.id() + ".log");
        assertEquals(log.toString(), record.log());
        Process dd = new ProcessBuilder("dd", "if=" + record.devices().get(0).path(), "of=/dev/null", "bs=64k",
                "skip=128", "count=64", "iflag=direct").redirectErrorStream(true).start();
        String ddSays = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(dd.waitFor() != 0, "reading the cut-off data fails: " + ddSays);
        assertEquals(0, vdmount("detach", image.toString()).status);
        List<String> lines = Files.readAllLines(log);
        assertEquals(1, lines.size(), "one line for the one kind of failure, however many reads met it: " + lines);
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d vdmount: disk: read of \\d+ bytes at "
                + "offset \\d+ failed: " + java.util.regex.Pattern.quote(image.toString()) + ": truncated: .* \\(answered EIO; "
                + "later failures like it are counted, not logged\\)"), lines.get(0));
    }

    @Test
    void rwWritesARawImageThroughAPartition() throws Exception {
        Path files = sampleFiles();
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), files);
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        AttachedDevice p1 = attachWritable(image, "--rw");
        Shell.run("mount", p1.path(), mnt.toString());
        try {
            Files.writeString(mnt.resolve("new.txt"), "kept\n");
        } finally {
            Shell.run("umount", mnt.toString());
        }
        assertEquals(0, vdmount("detach", "--all").status);
        // The image file itself now holds the file system with the new file.
        String listing = Shell.run("debugfs", "-R", "cat /new.txt", "-f", "/dev/null",
                image + "?offset=" + MIB);
        assertTrue(listing.contains("kept"), listing);
    }

    /**
     * A VMDK (monolithicSparse) or a qcow2 attached --rw: a file written through the partition's
     * file system is in the image, which qemu finds clean and reads with the file in it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vmdk", "qcow2"})
    void rwWritesAnImageThroughAPartition(String format) throws Exception {
        Path files = sampleFiles();
        Path raw = partitionedExt4Image(dir.resolve("vm.raw"), files);
        Path image = dir.resolve("vm." + format);
        Shell.run("qemu-img", "convert", "-f", "raw", "-O", format, raw.toString(), image.toString());
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        AttachedDevice p1 = attachWritable(image, "--rw");
        Shell.run("mount", p1.path(), mnt.toString());
        try {
            Files.writeString(mnt.resolve("new.txt"), "kept in the " + format + "\n");
            Files.write(mnt.resolve("big.bin"), new byte[3 << 20]);
        } finally {
            Shell.run("umount", mnt.toString());
        }
        assertEquals(0, vdmount("detach", "--all").status);
        Shell.run("qemu-img", "check", image.toString());
        Path back = dir.resolve("back.raw");
        Shell.run("qemu-img", "convert", "-f", format, "-O", "raw", image.toString(), back.toString());
        Shell.run("e2fsck", "-fn", back + "?offset=" + MIB);
        String listing = Shell.run("debugfs", "-R", "cat /new.txt", "-f", "/dev/null", back + "?offset=" + MIB);
        assertTrue(listing.contains("kept in the " + format), listing);
    }

    /** Attaches {@code image} over FUSE with the given write option; returns partition 1, checked to be writable. */
    private AttachedDevice attachWritable(Path image, String... writeOption) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("attach", "--transport", "fuse"));
        args.addAll(List.of(writeOption));
        args.add(image.toString());
        Result attached = vdmount(args.toArray(String[]::new));
        assertEquals(0, attached.status, attached.err);
        AttachedDevice p1 = new RunDirectory(runDir).list().get(0).devices().get(1);
        assertEquals("p1", p1.name());
        String loop = Path.of(p1.path()).getFileName().toString();
        assertEquals("0", Files.readString(Path.of("/sys/block/" + loop + "/ro")).strip(), "the loop device takes writes");
        return p1;
    }

    @Test
    void emptyImageIsRefusedAndLeavesNothing() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.img"));
        Result r = vdmount("attach", empty.toString());
        assertEquals(1, r.status);
        assertTrue(r.err.contains("empty.img: the disk is empty"), r.err);
        assertEquals(List.of(), new RunDirectory(runDir).list());
    }

    @Test
    void unknownTransportIsAUsageError() throws Exception {
        Path image = Files.write(dir.resolve("x.img"), new byte[4096]);
        Result r = vdmount("attach", "--transport", "nope", image.toString());
        assertEquals(2, r.status);
        assertTrue(r.err.startsWith("vdmount: unknown transport 'nope' (this build has: auto, "), r.err);
        assertEquals(2, r.err.lines().count(), r.err);
    }

    @Test
    void crashedServerIsCleanedUpByDetach() throws Exception {
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), sampleFiles());
        assertEquals(0, vdmount(image.toString()).status);
        AttachmentRecord record = new RunDirectory(runDir).list().get(0);
        ProcessHandle server = ProcessHandle.of(record.pid()).orElseThrow();
        server.destroyForcibly(); // kill -9: no chance to clean up
        server.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        Result list = vdmount("list");
        assertTrue(list.out.contains("(not running)"), list.out);
        Result detached = vdmount("detach", Integer.toString(record.id()));
        assertEquals(0, detached.status, detached.err);
        assertNothingLeft();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theAuditTrailFollowsAnAttachmentFromAttachToDetachAndMountToUmount() throws Exception {
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), sampleFiles());
        Path log = dir.resolve("audit/audit.jsonl");
        String before = sha256(image);
        java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(image);
        Result attached = vdmount(image.toString(), "--transport", "fuse", "--audit-log", log.toString());
        assertEquals(0, attached.status, attached.err);
        List<AttachedDevice> devices = new RunDirectory(runDir).list().get(0).devices();
        String p1 = devices.get(1).path();
        Shell.run("dd", "if=" + p1, "of=/dev/null", "bs=1M", "count=3", "iflag=direct", "status=none");
        assertEquals(0, vdmount("detach", p1, "--audit-log", log.toString()).status);

        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Result mounted = vdmount("mount", "--audit-log", log.toString(), image.toString(), "1", mnt.toString());
        assertEquals(0, mounted.status, mounted.err);
        assertEquals(0, vdmount("umount", "--audit-log", log.toString(), mnt.toString()).status);
        assertNothingLeft();
        assertEquals(before, sha256(image));
        assertEquals(mtime, Files.getLastModifiedTime(image));

        List<Map<String, Object>> lines = org.vdmount.mounter.audit.JsonLines.read(log);
        assertEquals(List.of("attach", "end", "detach", "attach", "mount", "end", "detach"),
                lines.stream().map(l -> l.get("event")).toList());
        Map<String, Object> attach = lines.get(0);
        assertEquals(List.of("vdmount", image.toString(), "--transport", "fuse", "--audit-log", log.toString()),
                attach.get("command"), "the user's command line, not the background server's");
        assertEquals("read-only", attach.get("mode"));
        assertEquals("fuse", attach.get("transport"));
        Map<String, Object> file = ((List<Map<String, Object>>) attach.get("images")).get(0);
        assertEquals(image.toString(), file.get("path"));
        assertEquals(Files.size(image), file.get("size"));
        assertEquals(mtime.toInstant().toString(), file.get("mtime"));
        assertEquals(devices.stream().map(AttachedDevice::path).toList(),
                ((List<Map<String, Object>>) attach.get("devices")).stream().map(d -> d.get("path")).toList());

        Map<String, Object> end = lines.get(1);
        assertEquals(attach.get("attachment"), end.get("attachment"));
        assertEquals("detached", end.get("how"));
        long read = (Long) end.get("bytes-read");
        assertTrue(read >= 3 * MIB && read < 64 * MIB, "the 3 MiB read, and what udev and blkid probed: " + read);
        assertEquals(0L, end.get("bytes-written"));
        assertEquals(file, ((List<Map<String, Object>>) end.get("images")).get(0), "unchanged since the attach");

        Map<String, Object> detach = lines.get(2);
        assertEquals(List.of("vdmount", "detach", p1, "--audit-log", log.toString()), detach.get("command"));
        assertEquals(attach.get("attachment"), detach.get("attachment"));
        assertEquals(attach.get("devices"), detach.get("devices"));
        assertEquals("mount", ((List<String>) lines.get(3).get("command")).get(1));
        Map<String, Object> mount = lines.get(4);
        assertEquals(lines.get(3).get("attachment"), mount.get("attachment"));
        assertEquals("p1", mount.get("partition"));
        assertEquals(mnt.toString(), mount.get("mount-point"));
        assertEquals("ro", mount.get("mount-options"));
        assertEquals("umount", ((List<String>) lines.get(6).get("command")).get(1));
    }

    @Test
    void anAttachWhoseRecordIsRequiredButCannotBeWrittenIsRefusedBeforeAnythingIsMade() throws Exception {
        Path image = Files.write(dir.resolve("once.img"), new byte[1 << 20]);
        String unwritable = Files.writeString(dir.resolve("file"), "").resolve("audit.jsonl").toString();
        Result refused = vdmount("attach", "--transport", "fuse", "--audit-required", "--audit-log", unwritable,
                image.toString());
        assertEquals(1, refused.status);
        assertEquals(1, refused.err.lines().count(), refused.err);
        assertTrue(refused.err.contains("(required by --audit-required): nothing was done"), refused.err);
        Result lenient = vdmount("attach", "--transport", "fuse", "--audit-log", unwritable, image.toString());
        assertEquals(0, lenient.status, lenient.err);
        assertTrue(lenient.err.startsWith("vdmount: warning: cannot write the audit log " + unwritable), lenient.err);
        assertEquals(1, lenient.err.lines().count(), lenient.err);
    }

    @Test
    void serverKilledWhileAttachingIsCleanedUpByDetach() throws Exception {
        // What a server killed -9 half way through attaching leaves: a "starting" record with a
        // dead pid, a FUSE mount at its work directory and a loop device on one of its files.
        RunDirectory run = new RunDirectory(runDir);
        int id = run.allocate();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        run.write(AttachmentRecord.starting(id, gone.pid(), "fuse"));
        Path raw = Files.write(dir.resolve("half.img"), new byte[1 << 20]);
        Path work = Files.createDirectories(run.workDir(id));
        try (org.vdmount.formats.VirtualDisk disk = org.vdmount.formats.Images.open(raw);
                org.vdmount.mounter.transport.fuse.FuseMount mount =
                        org.vdmount.mounter.transport.fuse.FuseMount.mount(work, Map.of("disk", disk), 1)) {
            String loop = Shell.run("losetup", "--find", "--show", "--read-only", work.resolve("disk").toString()).strip();
            assertTrue(Shell.run("losetup", "-a").contains(loop), loop);
            Result r = vdmount("detach", "--all");
            assertEquals(0, r.status, r.err);
            assertNothingLeft();
        }
    }

    @Test
    void foregroundServerCleansUpWhenStopped() throws Exception {
        Path image = partitionedExt4Image(dir.resolve("disk.raw"), sampleFiles());
        Process server = new ProcessBuilder(javaBinary(), "-Dvdmount.run.dir=" + runDir,
                "-cp", System.getProperty("java.class.path"), "org.vdmount.mounter.Main",
                "attach", "--foreground", image.toString())
                .redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("/dev/loop"), String.valueOf(first));
            List<AttachmentRecord> records = new RunDirectory(runDir).list();
            assertEquals(1, records.size());
            assertEquals(server.pid(), records.get(0).pid());
            server.destroy(); // SIGTERM, like Ctrl-C or systemctl stop
            assertTrue(server.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "foreground server stops");
            assertNothingLeft();
        } finally {
            server.destroyForcibly();
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Attaches {@code image} with plain {@code vdmount IMAGE}, checks the whole-disk device reads
     * exactly like {@code raw}, mounts partition 1 read-only and compares every file with
     * {@code files}, checks that detach refuses while mounted, then detaches.
     */
    void attachMountCompareDetach(Path image, Path raw, Path files) throws Exception {
        Result attached = vdmount(image.toString());
        assertEquals(0, attached.status, attached.err);
        List<AttachmentRecord> records = new RunDirectory(runDir).list();
        assertEquals(1, records.size());
        AttachmentRecord record = records.get(0);
        assertEquals("fuse", record.transport());
        assertEquals(image.toAbsolutePath().toString(), record.image());
        assertTrue(record.serverAlive(), "a background server serves the devices");
        AttachedDevice disk = record.devices().get(0);
        AttachedDevice p1 = record.devices().get(1);
        assertEquals("disk", disk.name());
        assertEquals("p1", p1.name());
        String[] lines = attached.out.split("\n");
        assertEquals(record.devices().size(), lines.length, attached.out);
        assertTrue(lines[0].matches(disk.path() + " +\\S+ \\S+ +" + image.getFileName() + " \\(\\w+.*, read-only, fuse\\)"), lines[0]);
        assertTrue(lines[1].matches(p1.path() + " +\\S+ \\S+ +p1 Linux"), lines[1]);

        assertEquals(sha256(raw), sha256(Path.of(disk.path())), "whole disk device reads like the image");

        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Shell.run("mount", "-o", "ro", p1.path(), mnt.toString());
        try {
            assertEquals(checksums(files), checksums(mnt));
            Result refused = vdmount("detach", p1.path());
            assertEquals(1, refused.status);
            assertTrue(refused.err.contains(p1.path() + " is mounted on " + mnt), refused.err);
            assertTrue(Files.exists(runDir.resolve(record.id() + RunDirectory.SUFFIX)), "still attached");
        } finally {
            Shell.quietly("umount", mnt.toString());
        }

        Result json = vdmount("list", "--json");
        assertTrue(json.out.contains("\"path\": \"" + p1.path() + "\""), json.out);

        Result detached = vdmount("detach", image.toString());
        assertEquals(0, detached.status, detached.err);
        assertNothingLeft();
        assertFalse(ProcessHandle.of(record.pid()).map(ProcessHandle::isAlive).orElse(false), "server stopped");
    }

    private void assertNothingLeft() throws IOException, InterruptedException {
        String mounts = Files.readString(Path.of("/proc/mounts"));
        assertFalse(mounts.contains(dir.toString()), "nothing of the test mounted:\n" + mounts);
        String loops = Shell.run("losetup", "-a");
        assertFalse(loops.contains(dir.toString()), "no loop device left:\n" + loops);
        // A loop left on a lazily unmounted FUSE file shows its path relative to the lost mount.
        assertFalse(java.util.regex.Pattern.compile("\\(/(disk|p\\d+)\\)").matcher(loops).find(),
                "no loop device left on a detached FUSE file:\n" + loops);
        assertEquals(List.of(), new RunDirectory(runDir).list());
    }

    /** A 64 MiB disk: DOS label, p1 = 24 MiB ext4 holding {@code files}, p2 = the rest (unformatted). */
    static Path partitionedExt4Image(Path image, Path files) throws Exception {
        Shell.run("truncate", "-s", "64M", image.toString());
        Path script = Files.writeString(image.resolveSibling("layout.sfdisk"), "label: dos\n1MiB,24MiB,L\n,,c\n");
        Shell.run("sh", "-c", "sfdisk -q '" + image + "' < '" + script + "'");
        Shell.run("mke2fs", "-q", "-F", "-t", "ext4", "-d", files.toString(), "-E", "offset=" + MIB, image.toString(), "24M");
        return image;
    }

    private Path sampleFiles() throws IOException {
        Path files = Files.createDirectories(dir.resolve("files/sub"));
        Files.writeString(files.resolve("hello.txt"), "hello, vdmount\n");
        byte[] big = new byte[5_000_000];
        new java.util.Random(7).nextBytes(big);
        Files.write(files.resolve("big.bin"), big);
        Files.write(files.resolve("zeros.bin"), new byte[1_000_000]);
        return files.getParent();
    }

    private static Map<String, String> checksums(Path root) throws Exception {
        Map<String, String> sums = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isRegularFile(p) && !rel.startsWith("lost+found")) {
                    sums.put(rel, sha256(p));
                }
            }
        }
        return sums;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    record Result(int status, String out, String err) {
    }

    /** Runs the vdmount command in this JVM (its background server is a real separate process). */
    static synchronized Result vdmount(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            status = VdmountCommand.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
