package org.vdmount.mounter.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vdmount.formats.testing.TestImages;

/**
 * X.509 files for the TLS tests, made by openssl at test time in the layouts qemu-nbd and libnbd
 * read: a CA; a server directory (server-cert.pem for localhost and 127.0.0.1, its key in
 * PKCS#1 "RSA PRIVATE KEY" form, ca-cert.pem); a client directory (client-cert.pem, its key in
 * SEC1 "EC PRIVATE KEY" form, ca-cert.pem); a client signed by another CA; a client with no
 * certificate.
 */
final class TestCertificates {
    final Path server;
    final Path serverWithoutCa;
    final Path client;
    final Path strangerClient;
    final Path anonymousClient;
    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
        this.server = dir.resolve("server");
        this.serverWithoutCa = dir.resolve("server-no-ca");
        this.client = dir.resolve("client");
        this.strangerClient = dir.resolve("stranger");
        this.anonymousClient = dir.resolve("anonymous");
    }

    static TestCertificates make(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        c.ca("ca");
        c.ca("other-ca");
        for (Path d : new Path[] {c.server, c.serverWithoutCa, c.client, c.strangerClient, c.anonymousClient}) {
            Files.createDirectories(d);
        }
        c.openssl("genrsa", "-traditional", "-out", c.server.resolve("server-key.pem").toString(), "2048");
        c.signed("ca", c.server.resolve("server-key.pem"), c.server.resolve("server-cert.pem"), "localhost",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        c.openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", c.client.resolve("client-key.pem").toString());
        c.signed("ca", c.client.resolve("client-key.pem"), c.client.resolve("client-cert.pem"), "client",
                "extendedKeyUsage=clientAuth\n");
        c.openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                c.strangerClient.resolve("client-key.pem").toString());
        c.signed("other-ca", c.strangerClient.resolve("client-key.pem"), c.strangerClient.resolve("client-cert.pem"),
                "stranger", "extendedKeyUsage=clientAuth\n");
        for (Path d : new Path[] {c.server, c.client, c.strangerClient, c.anonymousClient}) {
            Files.copy(dir.resolve("ca-cert.pem"), d.resolve("ca-cert.pem"));
        }
        Files.copy(c.server.resolve("server-cert.pem"), c.serverWithoutCa.resolve("server-cert.pem"));
        Files.copy(c.server.resolve("server-key.pem"), c.serverWithoutCa.resolve("server-key.pem"));
        return c;
    }

    /** A CA's key and self-signed certificate: NAME-key.pem, NAME-cert.pem. */
    private void ca(String name) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", dir.resolve(name + "-key.pem").toString(), "-out", dir.resolve(name + "-cert.pem").toString(),
                "-days", "2", "-subj", "/CN=vdmount test " + name);
    }

    /** A certificate for {@code key}, signed by CA {@code ca}, with the given extensions. */
    void signed(String ca, Path key, Path cert, String commonName, String extensions)
            throws IOException, InterruptedException {
        Path csr = dir.resolve(commonName + ".csr");
        Path ext = Files.writeString(dir.resolve(commonName + ".ext"), extensions);
        openssl("req", "-new", "-key", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + commonName);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", dir.resolve(ca + "-cert.pem").toString(),
                "-CAkey", dir.resolve(ca + "-key.pem").toString(), "-CAcreateserial", "-out", cert.toString(),
                "-days", "2", "-extfile", ext.toString());
    }

    void openssl(String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 1];
        command[0] = "openssl";
        System.arraycopy(args, 0, command, 1, args.length);
        TestImages.run(dir, command);
    }
}
