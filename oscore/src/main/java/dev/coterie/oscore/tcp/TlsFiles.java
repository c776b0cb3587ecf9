package dev.coterie.oscore.tcp;

import dev.coterie.keystore.OwnerOnlyFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material for coaps+tcp from files, with the owner-only rule of private-key files: a
 * PKCS#12 key store (private key and PKIX certificate chain) and a trust store of PEM
 * certificates. Error messages name the file and the problem, never a password or a key.
 */
public final class TlsFiles {
    /** TLS 1.3 first, 1.2 for peers without it (issue 10); nothing older. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** RFC 8323 Section 8.2: the ALPN protocol name of CoAP over TLS. */
    static final String ALPN = "coap";

    private TlsFiles() {
    }

    /**
     * A server's context: its key and certificate from {@code keyStore}; with {@code clientTrust},
     * client certificates are required and checked against it. {@code password} is wiped before
     * this returns.
     */
    public static SSLContext server(Path keyStore, char[] password, Path clientTrust) throws IOException {
        return context(keyStore, password, clientTrust);
    }

    /**
     * A client's context: servers are checked against {@code trust}; with {@code keyStore}, a
     * client certificate. {@code password} is wiped before this returns.
     */
    public static SSLContext client(Path trust, Path keyStore, char[] password) throws IOException {
        if (trust == null) {
            if (password != null) {
                java.util.Arrays.fill(password, '\0');
            }
            throw new IOException("a coaps+tcp client needs a trust store (the server's CA or certificate, PEM)");
        }
        return context(keyStore, password, trust);
    }

    /** {@code password} is wiped (zeros) before this returns, whether it succeeds or not. */
    private static SSLContext context(Path keyStore, char[] password, Path trust) throws IOException {
        try {
            KeyManagerFactory kmf = null;
            if (keyStore != null) {
                OwnerOnlyFiles.requireOwnerOnly(keyStore, "TLS key store");
                KeyStore ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(keyStore)) {
                    ks.load(in, password);
                } catch (IOException e) {
                    // the JDK's message: "keystore password was incorrect" and the like; never the password
                    throw new IOException("TLS key store " + keyStore + ": " + e.getMessage(), e);
                }
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, password);
            }
            TrustManagerFactory tmf = null;
            if (trust != null) {
                tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(trustStore(trust));
            }
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS material: " + e.getMessage(), e);
        } finally {
            if (password != null) {
                java.util.Arrays.fill(password, '\0');
            }
        }
    }

    /** The PEM certificates in {@code file} as trust anchors; the file must be owner-only. */
    static KeyStore trustStore(Path file) throws IOException, GeneralSecurityException {
        OwnerOnlyFiles.requireOwnerOnly(file, "TLS trust store");
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(file)) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("TLS trust store " + file + ": no PEM certificates (" + e.getMessage() + ")", e);
        }
        if (certs.isEmpty()) {
            throw new IOException("TLS trust store " + file + ": no certificates");
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int i = 0;
        for (Certificate c : certs) {
            ks.setCertificateEntry("trusted-" + i++, c);
        }
        return ks;
    }
}
