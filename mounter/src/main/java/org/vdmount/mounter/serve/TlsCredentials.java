package org.vdmount.mounter.serve;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import org.vdmount.mounter.nbd.StartTls;
import org.vdmount.mounter.util.UserError;

/**
 * The X.509 credentials of {@code vdmount serve --tls-creds DIR}, read from the files qemu-nbd
 * reads there, so one directory serves both: {@code server-cert.pem} (the server's certificate,
 * any intermediate certificates after it), {@code server-key.pem} (its private key, unencrypted)
 * and, when present, {@code ca-cert.pem}: clients must then show a certificate that this CA
 * signed, as qemu-nbd's default (verify-peer) asks. Without it any client that trusts the server
 * may connect. TLS 1.2 and 1.3 only (the JDK's defaults).
 */
public final class TlsCredentials {
    static final String CA_CERT = "ca-cert.pem";
    static final String SERVER_CERT = "server-cert.pem";
    static final String SERVER_KEY = "server-key.pem";
    static final String CA_CRL = "ca-crl.pem";

    private final SSLContext context;
    private final boolean checksClients;

    private TlsCredentials(SSLContext context, boolean checksClients) {
        this.context = context;
        this.checksClients = checksClients;
    }

    /**
     * Reads the credentials in {@code dir}; problems that do not stop serving (a certificate out of
     * its validity period) go to {@code warnings}.
     *
     * @throws UserError naming the file and what is wrong with it
     */
    public static TlsCredentials load(Path dir, Consumer<String> warnings) {
        if (!Files.isDirectory(dir)) {
            throw new UserError(dir + ": not a directory (--tls-creds names a directory holding " + SERVER_CERT
                    + " and " + SERVER_KEY + ")");
        }
        if (Files.exists(dir.resolve(CA_CRL))) {
            // Serving while ignoring a revocation list would let revoked clients in.
            throw new UserError(dir.resolve(CA_CRL) + ": revocation lists are not supported yet; without it, "
                    + "clients are checked against " + CA_CERT + " alone");
        }
        List<X509Certificate> chain = PemFiles.certificates(dir.resolve(SERVER_CERT));
        PrivateKey key = PemFiles.privateKey(dir.resolve(SERVER_KEY));
        checkPair(dir, chain.get(0), key);
        checkValidity(dir.resolve(SERVER_CERT), chain.get(0), warnings);
        Path caFile = dir.resolve(CA_CERT);
        List<X509Certificate> cas = Files.exists(caFile) ? PemFiles.certificates(caFile) : List.of();
        for (X509Certificate ca : cas) {
            checkValidity(caFile, ca, warnings);
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] none = new char[0];
            keys.setKeyEntry("server", key, none, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            TrustManagerFactory tmf = null;
            if (!cas.isEmpty()) {
                KeyStore trusted = KeyStore.getInstance("PKCS12");
                trusted.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    trusted.setCertificateEntry("ca" + i, cas.get(i));
                }
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trusted);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return new TlsCredentials(context, !cas.isEmpty());
        } catch (GeneralSecurityException | IOException e) {
            throw new UserError(dir + ": cannot use these credentials: " + e.getMessage());
        }
    }

    /** Whether clients must show a certificate signed by the directory's CA. */
    public boolean checksClients() {
        return checksClients;
    }

    /** STARTTLS for the NBD server, {@code required} or offered. */
    public StartTls startTls(boolean required) {
        return new StartTls() {
            @Override
            public boolean required() {
                return required;
            }

            @Override
            public ByteChannel start(ByteChannel plain) throws IOException {
                SSLEngine engine = context.createSSLEngine();
                engine.setUseClientMode(false);
                engine.setNeedClientAuth(checksClients);
                return TlsChannel.handshake(plain, engine);
            }
        };
    }

    /** A key that is not the certificate's would only show as a failed handshake: say so now. */
    private static void checkPair(Path dir, X509Certificate cert, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448, RSASSA-PSS sign under their own names
        };
        try {
            byte[] probe = "vdmount".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            if (key.getAlgorithm().equals("RSASSA-PSS")) {
                return; // needs parameters of its own; the handshake will tell
            }
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another kind than the certificate's: not a pair either
        }
        throw new UserError(dir.resolve(SERVER_KEY) + ": is not the private key of " + dir.resolve(SERVER_CERT));
    }

    private static void checkValidity(Path file, X509Certificate cert, Consumer<String> warnings) {
        try {
            cert.checkValidity();
        } catch (CertificateExpiredException e) {
            warnings.accept(file + ": the certificate expired on " + cert.getNotAfter().toInstant()
                    + ": clients will refuse it");
        } catch (CertificateNotYetValidException e) {
            warnings.accept(file + ": the certificate is valid only from " + cert.getNotBefore().toInstant()
                    + ": clients will refuse it until then");
        }
    }
}
