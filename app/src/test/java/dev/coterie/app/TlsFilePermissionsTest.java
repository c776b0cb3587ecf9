package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS key and trust files follow the owner-only rule of private-key files; the check comes before anything is read or sent. */
class TlsFilePermissionsTest {
    @TempDir
    Path dir;

    @Test
    void aTrustStoreReadableByOthersIsRefused() throws Exception {
        Path ctx = ClientFixtures.contextFile(dir, "client", "", "01", "");
        Path trust = dir.resolve("ca.pem");
        Files.writeString(trust, "not a certificate\n");
        Files.setPosixFilePermissions(trust, PosixFilePermissions.fromString("rw-r--r--"));
        ClientFixtures.Run open = ClientFixtures.run("client", "--context", ctx.toString(), "--tls-trust", trust.toString(),
                "coaps+tcp://127.0.0.1:9/hello");
        assertEquals(64, open.status(), open.err());
        assertTrue(open.err().contains("TLS trust store " + trust + " is accessible to others (rw-r--r--); run chmod 600 on it"),
                open.err());
        // positive control: owner-only, the same file is read (and found to hold no certificate)
        Files.setPosixFilePermissions(trust, PosixFilePermissions.fromString("rw-------"));
        ClientFixtures.Run closed = ClientFixtures.run("client", "--context", ctx.toString(), "--tls-trust", trust.toString(),
                "coaps+tcp://127.0.0.1:9/hello");
        assertFalse(closed.err().contains("accessible to others"), closed.err());
        assertTrue(closed.err().contains("no PEM certificates") || closed.err().contains("no certificates"), closed.err());
    }

    @Test
    void aKeyStoreReadableByOthersIsRefusedBeforeTheServerStarts() throws Exception {
        Path ctx = ClientFixtures.contextFile(dir, "server", "01", "", "");
        Path p12 = dir.resolve("server.p12");
        Files.write(p12, new byte[] {0x30, 0x00});
        Files.setPosixFilePermissions(p12, PosixFilePermissions.fromString("rw-r-----"));
        String pathEnv = "PATH"; // any variable that is set: the password is never reached
        ClientFixtures.Run open = ClientFixtures.run("server", "--context", ctx.toString(), "--bind", "127.0.0.1:0",
                "--tls-bind", "127.0.0.1:0", "--tls-keystore", p12.toString(), "--tls-keystore-pass-env", pathEnv);
        assertEquals(64, open.status(), open.err());
        assertTrue(open.err().contains("TLS key store " + p12 + " is accessible to others (rw-r-----)"), open.err());
        // positive control: owner-only, the file is read (and is no key store)
        Files.setPosixFilePermissions(p12, PosixFilePermissions.fromString("rw-------"));
        ClientFixtures.Run closed = ClientFixtures.run("server", "--context", ctx.toString(), "--bind", "127.0.0.1:0",
                "--tls-bind", "127.0.0.1:0", "--tls-keystore", p12.toString(), "--tls-keystore-pass-env", pathEnv);
        assertEquals(64, closed.status(), closed.err());
        assertFalse(closed.err().contains("accessible to others"), closed.err());
        assertTrue(closed.err().contains("TLS key store " + p12 + ":"), closed.err());
    }
}
