package org.vdmount.mounter.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vdmount.mounter.nbd.NbdProtocol.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.util.UserError;

/**
 * NBD over TLS with the clients users have: nbdinfo and nbdcopy (libnbd, GnuTLS) with nbds://
 * URIs, qemu-img with a tls-creds-x509 object; the certificates made by openssl, in the files
 * qemu-nbd reads. A client without TLS, or without a certificate the CA signed, is refused.
 */
class NbdTlsTest {
    private static final int SIZE = 3 * 1024 * 1024 + 512;

    @TempDir
    static Path shared;
    private static TestCertificates certs;
    private static Path image;

    @TempDir
    Path dir;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<VirtualDisk> disks = new ArrayList<>();
    private NbdServer server;

    @BeforeAll
    static void makeCertificatesAndImage() throws Exception {
        certs = TestCertificates.make(Files.createDirectories(shared.resolve("pki")));
        image = shared.resolve("disk.img");
        Files.write(image, TestImages.pattern(SIZE, 11));
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        for (VirtualDisk d : disks) {
            d.close();
        }
    }

    private void serve(Path credentials, boolean required) throws IOException {
        VirtualDisk disk = Images.open(image);
        disks.add(disk);
        NbdExports exports = new NbdExports(List.of(NbdExport.of("disk", "test disk", disk, false, log::add)));
        server = NbdServer.start(exports, NbdTestSupport.loopbackAnyPort(),
                TlsCredentials.load(credentials, log::add).startTls(required), log::add);
    }

    private int port() {
        return ((InetSocketAddress) server.address()).getPort();
    }

    private String nbds(Path clientDir) {
        return "nbds://127.0.0.1:" + port() + "/disk?tls-certificates=" + clientDir;
    }

    private String qemuImg(Path clientDir, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("qemu-img"));
        args.addAll(List.of(command));
        args.addAll(List.of("--object", "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client", "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port() + ",export=disk,tls-creds=tls0"));
        return NbdTestSupport.run(dir, args.toArray(String[]::new));
    }

    @Test
    void realClientsReadOverTls() throws Exception {
        serve(certs.server, true);
        String info = NbdTestSupport.run(dir, "nbdinfo", "--json", nbds(certs.client));
        assertTrue(info.contains("\"TLS\": true"), info);
        assertTrue(info.contains("\"export-size\": " + SIZE), info);

        Path copy = dir.resolve("nbdcopy.raw");
        NbdTestSupport.run(dir, "nbdcopy", nbds(certs.client), copy.toString());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(copy));

        String qemuInfo = qemuImg(certs.client, "info");
        assertTrue(qemuInfo.contains("virtual size: 3 MiB (" + (SIZE + 511) / 512 * 512 + " bytes)"), qemuInfo);
        Path converted = dir.resolve("qemu.raw");
        List<String> args = new ArrayList<>(List.of("qemu-img", "convert", "-O", "raw", "--object",
                "tls-creds-x509,id=tls0,dir=" + certs.client + ",endpoint=client", "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port() + ",export=disk,tls-creds=tls0", converted.toString()));
        NbdTestSupport.run(dir, args.toArray(String[]::new));
        assertEquals(-1, java.util.Arrays.mismatch(Files.readAllBytes(image),
                java.util.Arrays.copyOf(Files.readAllBytes(converted), SIZE)));
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void clientsWithoutTlsOrWithoutACertificateTheCaSignedAreRefused() throws Exception {
        serve(certs.server, true);
        TestImages.Result plain = NbdTestSupport.runAllowingFailure(dir, "nbdinfo", "nbd://127.0.0.1:" + port() + "/disk");
        assertNotEquals(0, plain.exit(), plain.output());
        TestImages.Result stranger = NbdTestSupport.runAllowingFailure(dir, "nbdinfo", nbds(certs.strangerClient));
        assertNotEquals(0, stranger.exit(), stranger.output());
        TestImages.Result anonymous = NbdTestSupport.runAllowingFailure(dir, "nbdinfo", nbds(certs.anonymousClient));
        assertNotEquals(0, anonymous.exit(), anonymous.output());
        TestImages.Result qemuPlain = NbdTestSupport.runAllowingFailure(dir, "qemu-img", "info",
                "nbd://127.0.0.1:" + port() + "/disk");
        assertNotEquals(0, qemuPlain.exit(), qemuPlain.output());
        waitForLog(5);
        assertEquals(2, log.stream().filter(l -> l.contains("refused: it did not start TLS, which this server requires"))
                .count(), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("TLS handshake failed") && l.contains("certificate")),
                log.toString());
        assertEquals(2, log.stream().filter(l -> l.contains("TLS handshake failed")).count(), log.toString());
    }

    /** Log lines come from the connections' threads a moment after the clients are gone. */
    private void waitForLog(int lines) throws InterruptedException {
        for (int i = 0; i < 100 && log.size() < lines; i++) {
            Thread.sleep(50);
        }
    }

    @Test
    void beforeStartTlsOnlyAbortIsAnsweredAndExportNameEndsTheConnection() throws Exception {
        serve(certs.server, true);
        try (NbdTestClient c = new NbdTestClient((InetSocketAddress) server.address())) {
            assertEquals(REP_ERR_TLS_REQD, c.option(OPT_GO, NbdTestClient.goData("disk")).type());
            assertEquals(REP_ERR_TLS_REQD, c.option(OPT_LIST, new byte[0]).type());
            assertEquals(REP_ERR_TLS_REQD, c.option(OPT_STRUCTURED_REPLY, new byte[0]).type());
            assertEquals(REP_ERR_INVALID, c.option(OPT_STARTTLS, new byte[] {1}).type());
            c.sendOption(OPT_EXPORT_NAME, NbdTestClient.utf8("disk"));
            assertTrue(c.closedByServer());
        }
        waitForLog(2);
        assertTrue(log.stream().anyMatch(l -> l.contains("asked for an export without TLS")), log.toString());
    }

    @Test
    void withoutACaAnyClientThatTrustsTheServerGetsIn() throws Exception {
        serve(certs.serverWithoutCa, true);
        String size = NbdTestSupport.run(dir, "nbdinfo", "--size", nbds(certs.anonymousClient)).strip();
        assertEquals(String.valueOf(SIZE), size);
    }

    @Test
    void whenTlsIsNotRequiredPlainClientsAreServedToo() throws Exception {
        serve(certs.server, false);
        assertEquals(String.valueOf(SIZE),
                NbdTestSupport.run(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + port() + "/disk").strip());
        String info = NbdTestSupport.run(dir, "nbdinfo", "--json", nbds(certs.client));
        assertTrue(info.contains("\"TLS\": true"), info);
    }

    @Test
    void credentialProblemsAreOneLineNamingTheFile() throws Exception {
        Path d = Files.createDirectories(dir.resolve("creds"));
        assertMessage(dir.resolve("none") + ": not a directory", dir.resolve("none"));
        assertMessage(d.resolve("server-cert.pem") + ": no such file", d);
        Files.copy(certs.server.resolve("server-cert.pem"), d.resolve("server-cert.pem"));
        assertMessage(d.resolve("server-key.pem") + ": no such file", d);
        Files.copy(certs.client.resolve("client-key.pem"), d.resolve("server-key.pem"));
        assertMessage(d.resolve("server-key.pem") + ": is not the private key of " + d.resolve("server-cert.pem"), d);
        certs.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x",
                "-out", d.resolve("server-key.pem").toString());
        assertMessage(d.resolve("server-key.pem") + ": the key is encrypted", d);
        Files.writeString(d.resolve("server-key.pem"), "not a key\n");
        assertMessage(d.resolve("server-key.pem") + ": holds no private key", d);
        Files.writeString(d.resolve("server-cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertMessage(d.resolve("server-cert.pem") + ": not a readable certificate", d);

        // A PKCS#8 key (what openssl genpkey writes) with its own certificate is fine.
        certs.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                d.resolve("server-key.pem").toString());
        certs.signed("ca", d.resolve("server-key.pem"), d.resolve("server-cert.pem"), "pkcs8",
                "subjectAltName=IP:127.0.0.1\n");
        assertTrue(TlsCredentials.load(d, log::add) != null);
        Files.writeString(d.resolve("ca-crl.pem"), "");
        assertMessage(d.resolve("ca-crl.pem") + ": revocation lists are not supported yet", d);
    }

    private void assertMessage(String expected, Path credentials) {
        UserError e = assertThrows(UserError.class, () -> TlsCredentials.load(credentials, log::add));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void vdmountServeWithTlsCredsPrintsAnNbdsUri() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.vdmount.mounter.Main", "serve", "--port", "0",
                "--tls-creds", certs.server.toString(), image.toString())
                .redirectError(dir.resolve("serve.err").toFile()).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
            assertTrue(line != null && line.matches("nbds://127\\.0\\.0\\.1:\\d+/disk\\.img  \\(.*, read-only, TLS\\)"),
                    line + " " + Files.readString(dir.resolve("serve.err")));
            String uri = line.split(" ")[0] + "?tls-certificates=" + certs.client;
            assertEquals(String.valueOf(SIZE), NbdTestSupport.run(dir, "nbdinfo", "--size", uri).strip());
        } finally {
            p.destroy();
        }
        assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
    }
}
