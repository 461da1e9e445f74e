package org.vdmount.mounter.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.formats.RunKind.DATA;
import static org.vdmount.formats.RunKind.UNALLOCATED;
import static org.vdmount.formats.RunKind.ZERO;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.serve.NbdTestSupport.LayoutDisk;

/** The server as real clients see it: nbdinfo, nbdcopy and qemu-img, on this host. */
class NbdRealClientsTest {
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private final List<String> log = new CopyOnWriteArrayList<>();
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

    /** A raw image of random bytes whose size is not a multiple of anything, so the tail is checked. */
    private Path randomRaw(String name, int size, int seed) throws IOException {
        Path image = dir.resolve(name);
        Files.write(image, NbdTestSupport.pattern(size, seed));
        return image;
    }

    private NbdExport export(String name, Path image) throws IOException {
        VirtualDisk disk = Images.open(image);
        disks.add(disk);
        return NbdExport.of(name, "image " + name, disk, false, log::add);
    }

    private void serve(NbdExport... exports) throws IOException {
        server = NbdServer.start(new NbdExports(List.of(exports)), NbdTestSupport.loopbackAnyPort(), log::add);
    }

    /**
     * qemu's NBD client rounds an export's size up to whole 512-byte sectors (qemu-nbd does the
     * same to what it serves), so a copy made by qemu-img of an odd-sized export ends in zeros.
     */
    private static void assertSameUpToSectorPadding(byte[] expected, Path copy) throws IOException {
        byte[] got = Files.readAllBytes(copy);
        assertEquals((expected.length + 511) / 512 * 512, got.length, "size rounded up to sectors");
        assertArrayEquals(expected, java.util.Arrays.copyOf(got, expected.length));
        assertArrayEquals(new byte[got.length - expected.length],
                java.util.Arrays.copyOfRange(got, expected.length, got.length));
    }

    @Test
    void nbdinfoSeesSizeFlagsAndEveryExport() throws Exception {
        serve(export("first", randomRaw("a.img", 3 * MIB + 511, 1)), export("second", randomRaw("b.img", MIB, 2)));
        String json = NbdTestSupport.run(dir, "nbdinfo", "--json", NbdTestSupport.uri(server, "first"));
        assertTrue(json.contains("\"export-size\": " + (3 * MIB + 511)), json);
        assertTrue(json.contains("\"is_read_only\": true"), json);
        assertTrue(json.contains("\"can_multi_conn\": true"), json);
        assertTrue(json.contains("\"base:allocation\""), json);
        assertTrue(json.contains("\"protocol\": \"newstyle-fixed\""), json);

        String list = NbdTestSupport.run(dir, "nbdinfo", "--list", NbdTestSupport.uri(server, ""));
        assertTrue(list.contains("export=\"first\""), list);
        assertTrue(list.contains("export=\"second\""), list);
        assertTrue(list.contains("description: image second"), list);

        String size = NbdTestSupport.run(dir, "nbdinfo", "--size", NbdTestSupport.uri(server, "")).strip();
        assertEquals(String.valueOf(3 * MIB + 511), size, "the default export is the first");
    }

    @Test
    void nbdcopyAndQemuImgCopyByteForByte() throws Exception {
        Path image = randomRaw("data.img", 9 * MIB + 4097, 3);
        serve(export("data", image));
        Path copy = dir.resolve("nbdcopy.raw");
        NbdTestSupport.run(dir, "nbdcopy", NbdTestSupport.uri(server, "data"), copy.toString());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(copy));

        Path converted = dir.resolve("qemu.raw");
        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw",
                NbdTestSupport.uri(server, "data"), converted.toString());
        assertSameUpToSectorPadding(Files.readAllBytes(image), converted);
    }

    @Test
    void unixSocketWithQemuImgAndNbdinfo() throws Exception {
        Path image = randomRaw("u.img", 2 * MIB + 3, 4);
        Path socket = dir.resolve("nbd.sock");
        server = NbdServer.start(new NbdExports(List.of(export("u", image))), UnixDomainSocketAddress.of(socket), log::add);
        String uri = "nbd+unix:///u?socket=" + socket;
        assertEquals(String.valueOf(2 * MIB + 3), NbdTestSupport.run(dir, "nbdinfo", "--size", uri).strip());
        Path converted = dir.resolve("qemu.raw");
        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString());
        assertSameUpToSectorPadding(Files.readAllBytes(image), converted);
        server.close();
        assertTrue(Files.notExists(socket), "the socket is removed on close");
    }

    @Test
    void holesAreMappedAndSkipped() throws Exception {
        LayoutDisk disk = LayoutDisk.of(DATA, MIB, UNALLOCATED, 8 * MIB, ZERO, 2 * MIB, DATA, 65536,
                UNALLOCATED, 5 * MIB);
        serve(NbdExport.of("sparse", "", disk, false, log::add));
        String uri = NbdTestSupport.uri(server, "sparse");
        String map = NbdTestSupport.run(dir, "nbdinfo", "--map", uri);
        List<String> rows = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(.*?)\\s*$").matcher(map);
        while (m.find()) {
            rows.add(m.group(1) + " " + m.group(2) + " " + m.group(3));
        }
        assertEquals(List.of("0 " + MIB + " 0", MIB + " " + 8 * MIB + " 3", 9 * MIB + " " + 2 * MIB + " 2",
                11 * MIB + " 65536 0", (11 * MIB + 65536) + " " + 5 * MIB + " 3"), rows, map);

        String qemuMap = NbdTestSupport.run(dir, "qemu-img", "map", "-f", "raw", "--output=json", uri);
        assertTrue(qemuMap.contains("\"start\": " + MIB + ", \"length\": " + 8 * MIB + ", \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false"), qemuMap);
        assertTrue(qemuMap.contains("\"start\": " + 9 * MIB + ", \"length\": " + 2 * MIB + ", \"depth\": 0, \"present\": true, \"zero\": true, \"data\": true"), qemuMap);

        Path copy = dir.resolve("sparse.raw");
        NbdTestSupport.run(dir, "nbdcopy", uri, copy.toString());
        assertArrayEquals(disk.expected(), Files.readAllBytes(copy));
        long allocated = (Long) Files.getAttribute(copy, "unix:size") > 0
                ? Long.parseLong(NbdTestSupport.run(dir, "stat", "-c", "%b", copy.toString()).strip()) * 512 : 0;
        assertTrue(allocated < 4 * MIB, "nbdcopy skipped the holes: " + allocated + " bytes allocated");

        Path converted = dir.resolve("sparse-qemu.raw");
        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString());
        assertArrayEquals(disk.expected(), Files.readAllBytes(converted));
    }

    @Test
    void fioNbdEngineReadsAndWritesWithVerification() throws Exception {
        Path image = randomRaw("fio.img", 16 * MIB, 8);
        serve(export("ro", image));
        String read = NbdTestSupport.run(dir, "fio", "--name=randread", "--ioengine=nbd",
                "--uri=" + NbdTestSupport.uri(server, "ro"), "--rw=randread", "--bs=4k", "--iodepth=16",
                "--io_size=8M");
        assertTrue(read.contains("err= 0"), read);
        server.close();

        Path writable = randomRaw("fio-rw.img", 16 * MIB, 9);
        VirtualDisk disk = Images.open(writable, new org.vdmount.formats.OpenOptions(null, 0, true), w -> { });
        disks.add(disk);
        serve(NbdExport.of("rw", "", disk, true, log::add));
        // fio writes checksummed blocks, then reads every one back and checks it.
        String verified = NbdTestSupport.run(dir, "fio", "--name=verify", "--ioengine=nbd",
                "--uri=" + NbdTestSupport.uri(server, "rw"), "--rw=randwrite", "--bs=16k", "--iodepth=8",
                "--size=8M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1");
        assertTrue(verified.contains("err= 0"), verified);
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void nbdfuseMountReadsTheSameBytes() throws Exception {
        Path image = randomRaw("fuse.img", 5 * MIB + 77, 10);
        serve(export("f", image));
        Path mountPoint = Files.createDirectory(dir.resolve("mnt"));
        Process fuse = new ProcessBuilder("nbdfuse", "-r", mountPoint.toString(), NbdTestSupport.uri(server, "f"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("nbdfuse.log").toFile()).start();
        try {
            Path file = mountPoint.resolve("nbd");
            for (int i = 0; i < 100 && !Files.exists(file); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(file), "nbdfuse did not mount: " + Files.readString(dir.resolve("nbdfuse.log")));
            assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(file));
        } finally {
            NbdTestSupport.runAllowingFailure(dir, "fusermount3", "-u", mountPoint.toString());
            if (!fuse.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                fuse.destroyForcibly();
            }
        }
    }

    @Test
    void manyClientsAtOnce() throws Exception {
        Path a = randomRaw("a.img", 6 * MIB + 100, 5);
        Path b = randomRaw("b.img", 4 * MIB, 6);
        serve(export("a", a), export("b", b));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> copies = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String name = i % 2 == 0 ? "a" : "b";
                Path out = dir.resolve("copy" + i + ".raw");
                boolean qemu = i % 4 < 2;
                copies.add(pool.submit(() -> {
                    if (qemu) {
                        NbdTestSupport.run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw",
                                NbdTestSupport.uri(server, name), out.toString());
                    } else {
                        // Several connections for one copy: what CAN_MULTI_CONN allows.
                        NbdTestSupport.run(dir, "nbdcopy", "--connections=4", "--requests=16",
                                NbdTestSupport.uri(server, name), out.toString());
                    }
                    return out;
                }));
            }
            for (int i = 0; i < copies.size(); i++) {
                byte[] expected = Files.readAllBytes(i % 2 == 0 ? a : b);
                if (i % 4 < 2) {
                    assertSameUpToSectorPadding(expected, copies.get(i).get());
                } else {
                    assertArrayEquals(expected, Files.readAllBytes(copies.get(i).get()), "copy " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(log.isEmpty(), log.toString());
    }
}
