package org.vdmount.mounter.serve;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.vdmount.mounter.util.UserError;

/**
 * Certificates and private keys in PEM files, as GnuTLS's certtool and OpenSSL write them: keys
 * unencrypted as PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY");
 * the last two are wrapped into PKCS#8 here, the only form the JDK reads. Errors name the file.
 */
final class PemFiles {
    private static final byte[] RSA_ENCRYPTION = oid(1, 2, 840, 113549, 1, 1, 1);
    private static final byte[] EC_PUBLIC_KEY = oid(1, 2, 840, 10045, 2, 1);

    private PemFiles() {
    }

    /** Every certificate in {@code file}, in order; at least one. */
    static List<X509Certificate> certificates(Path file) {
        byte[] bytes = read(file);
        try {
            List<X509Certificate> certs = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var c : factory.generateCertificates(new ByteArrayInputStream(bytes))) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) {
                throw new UserError(file + ": holds no certificate (PEM, -----BEGIN CERTIFICATE-----)");
            }
            return certs;
        } catch (CertificateException e) {
            throw new UserError(file + ": not a readable certificate (" + e.getMessage() + ")");
        }
    }

    /** The one private key in {@code file}. */
    static PrivateKey privateKey(Path file) {
        String text = new String(read(file), StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED")) {
            throw new UserError(file + ": the key is encrypted; vdmount needs it unencrypted (e.g. 'openssl pkey -in "
                    + file + " -out plain.pem'), readable by root only");
        }
        byte[] pkcs8;
        String[] kinds = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"};
        int kind = -1;
        byte[] der = null;
        for (int i = 0; i < kinds.length && der == null; i++) {
            der = block(text, kinds[i], file);
            kind = i;
        }
        if (der == null) {
            throw new UserError(file + ": holds no private key (PEM: PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        }
        try {
            pkcs8 = switch (kind) {
                case 1 -> pkcs8(sequence(RSA_ENCRYPTION, new byte[] {0x05, 0x00}), der);
                case 2 -> pkcs8(sequence(EC_PUBLIC_KEY, curveOf(der)), der);
                default -> der;
            };
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": damaged private key (" + e.getMessage() + ")");
        }
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new UserError(file + ": a private key of a kind Java cannot use (RSA, EC and EdDSA keys work)");
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot be read (" + e.getMessage() + ")");
        }
    }

    /** The bytes of the first "-----BEGIN {@code label}-----" block, or null. */
    private static byte[] block(String text, String label, Path file) {
        String begin = "-----BEGIN " + label + "-----";
        int at = text.indexOf(begin);
        if (at < 0) {
            return null;
        }
        int end = text.indexOf("-----END " + label + "-----", at);
        if (end < 0) {
            throw new UserError(file + ": the " + label + " block has no END line");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(at + begin.length(), end));
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": the " + label + " block is not valid base64");
        }
    }

    /** The named curve a SEC1 ECPrivateKey carries in its optional [0] parameters. */
    private static byte[] curveOf(byte[] sec1) {
        Der seq = new Der(sec1).enter(0x30);
        seq.skip(0x02); // version
        seq.skip(0x04); // the private key
        while (seq.more()) {
            if (seq.peek() == 0xa0) {
                return seq.enter(0xa0).whole(0x06);
            }
            seq.skip(seq.peek());
        }
        throw new IllegalArgumentException("an EC key without its curve");
    }

    /** PrivateKeyInfo: version 0, the algorithm, the key. */
    private static byte[] pkcs8(byte[] algorithm, byte[] key) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(algorithm);
        body.writeBytes(tlv(0x04, key));
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(p);
        }
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] oid(int... arcs) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(40 * arcs[0] + arcs[1]);
        for (int i = 2; i < arcs.length; i++) {
            int arc = arcs[i];
            int shift = 28;
            while (shift > 0 && (arc >>> shift) == 0) {
                shift -= 7;
            }
            for (; shift > 0; shift -= 7) {
                b.write(0x80 | (arc >>> shift) & 0x7f);
            }
            b.write(arc & 0x7f);
        }
        return tlv(0x06, b.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(tag);
        int n = value.length;
        if (n < 0x80) {
            b.write(n);
        } else {
            int bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
            b.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                b.write(n >>> (8 * i));
            }
        }
        b.writeBytes(value);
        return b.toByteArray();
    }

    /** Just enough DER reading to find a curve: definite lengths, bounds checked. */
    private static final class Der {
        private final byte[] bytes;
        private int at;
        private final int end;

        Der(byte[] bytes) {
            this(bytes, 0, bytes.length);
        }

        private Der(byte[] bytes, int from, int end) {
            this.bytes = bytes;
            this.at = from;
            this.end = end;
        }

        boolean more() {
            return at < end;
        }

        int peek() {
            if (at >= end) {
                throw new IllegalArgumentException("truncated");
            }
            return bytes[at] & 0xff;
        }

        /** The contents of the next element, which must have {@code tag}. */
        Der enter(int tag) {
            int[] span = next(tag);
            return new Der(bytes, span[0], span[1]);
        }

        void skip(int tag) {
            next(tag);
        }

        /** The next element whole (tag, length, contents). */
        byte[] whole(int tag) {
            int from = at;
            int[] span = next(tag);
            return java.util.Arrays.copyOfRange(bytes, from, span[1]);
        }

        private int[] next(int tag) {
            if (peek() != tag) {
                throw new IllegalArgumentException("unexpected tag " + peek());
            }
            at++;
            int length = peek();
            at++;
            if (length >= 0x80) {
                int count = length & 0x7f;
                if (count == 0 || count > 3) {
                    throw new IllegalArgumentException("bad length");
                }
                length = 0;
                for (int i = 0; i < count; i++) {
                    length = length << 8 | peek();
                    at++;
                }
            }
            if (length > end - at) {
                throw new IllegalArgumentException("truncated");
            }
            int[] span = {at, at + length};
            at += length;
            return span;
        }
    }
}
