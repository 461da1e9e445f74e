package org.vdmount.mounter.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;

/**
 * qcow2 images made by qemu-img, served and read back by real clients. Runs once the qcow2 reader
 * is in the tree; until then (the placeholder refuses every qcow2 image) it is skipped, saying why.
 */
class NbdQcow2Test {
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private final List<VirtualDisk> disks = new ArrayList<>();
    private NbdServer server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        for (VirtualDisk d : disks) {
            d.close();
        }
    }

    private VirtualDisk open(Path image, OpenOptions options) throws IOException {
        try {
            VirtualDisk disk = Images.open(image, options, w -> { });
            disks.add(disk);
            return disk;
        } catch (ImageException e) {
            assumeFalse(e.reason().contains("not supported yet"), "the qcow2 reader is not in this branch yet");
            throw e;
        }
    }

    private String serve(VirtualDisk disk) throws IOException {
        server = NbdServer.start(new NbdExports(List.of(NbdExport.of("q", "", disk, false, m -> { }))),
                NbdTestSupport.loopbackAnyPort(), line -> { });
        return NbdTestSupport.uri(server, "q");
    }

    /** 64 MiB: data, unallocated, a zero cluster, more data, data up to the last byte. */
    private Path sparseQcow2() throws Exception {
        Path image = dir.resolve("sparse.qcow2");
        NbdTestSupport.run(dir, "qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "64M");
        NbdTestSupport.run(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -z 8M 1M",
                "-c", "write -P 0x22 20M 64k", "-c", "write -P 0x33 63M 1M", image.toString());
        return image;
    }

    private Path qemuRaw(Path image, String... extra) throws Exception {
        Path raw = dir.resolve(image.getFileName() + ".qemu.raw");
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-O", "raw"));
        cmd.addAll(List.of(extra));
        cmd.addAll(List.of(image.toString(), raw.toString()));
        NbdTestSupport.run(dir, cmd.toArray(String[]::new));
        return raw;
    }

    @Test
    void copiesMatchQemuAndHolesAreMapped() throws Exception {
        Path image = sparseQcow2();
        String uri = serve(open(image, OpenOptions.readOnly()));
        byte[] expected = Files.readAllBytes(qemuRaw(image));

        Path copy = dir.resolve("nbdcopy.raw");
        NbdTestSupport.run(dir, "nbdcopy", uri, copy.toString());
        assertArrayEquals(expected, Files.readAllBytes(copy));
        Path converted = dir.resolve("convert.raw");
        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString());
        assertArrayEquals(expected, Files.readAllBytes(converted));

        String map = NbdTestSupport.run(dir, "nbdinfo", "--map", uri);
        List<String> rows = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)").matcher(map);
        while (m.find()) {
            rows.add(m.group(1) + " " + m.group(2) + " " + m.group(3));
        }
        assertEquals(List.of("0 " + MIB + " 0", MIB + " " + 7 * MIB + " 3", 8 * MIB + " " + MIB + " 2",
                9 * MIB + " " + 11 * MIB + " 3", 20 * MIB + " 65536 0", (20 * MIB + 65536) + " " + (43 * MIB - 65536) + " 3",
                63 * MIB + " " + MIB + " 0"), rows, map);
    }

    @Test
    void dataFullImageWithSeveralClients() throws Exception {
        Path raw = dir.resolve("full.raw");
        Files.write(raw, NbdTestSupport.pattern(24 * MIB, 11));
        Path image = dir.resolve("full.qcow2");
        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());
        String uri = serve(open(image, OpenOptions.readOnly()));
        Path copy = dir.resolve("copy.raw");
        NbdTestSupport.run(dir, "nbdcopy", "--connections=4", uri, copy.toString());
        assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(copy));
    }

    @Test
    void internalSnapshot() throws Exception {
        Path image = sparseQcow2();
        NbdTestSupport.run(dir, "qemu-img", "snapshot", "-c", "before", image.toString());
        NbdTestSupport.run(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x44 0 2M", image.toString());
        String uri = serve(open(image, OpenOptions.readOnly().withSnapshot("before")));
        Path copy = dir.resolve("snap.raw");
        NbdTestSupport.run(dir, "nbdcopy", uri, copy.toString());
        assertArrayEquals(Files.readAllBytes(qemuRaw(image, "-l", "snapshot.name=before")), Files.readAllBytes(copy));
    }
}
