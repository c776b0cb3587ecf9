package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GRP-07 credentials kept byte for byte; key types checked; private-key files. */
class CredentialTest {
    /** The server's CCS of draft-ietf-core-cacheable-oscore Appendix F.1. */
    static final String SERVER_CCS = "a501781a636f6170733a2f2f7365727665722e6578616d706c652e636f6d026673656e64657203781a636f6170733a2f2f636c69656e742e6578616d706c652e6f7267041a70004b4f08a101a401010327200621582077ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b";

    @TempDir
    Path dir;

    @Test
    void GRP_07_publishedCcsIsParsedAndKeptByteForByte() {
        Credential c = Credential.parseCcs(Hex.decode(SERVER_CCS));
        assertEquals(Credential.KeyType.OKP_ED25519, c.keyType());
        assertEquals("sender", c.subject());
        assertArrayEquals(Hex.decode(SERVER_CCS), c.encoded());
        assertArrayEquals(Hex.decode("77ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b"), c.publicKey());
        assertTrue(c.supports(SignatureAlgorithm.EDDSA_ED25519));
        assertFalse(c.supports(SignatureAlgorithm.ES256));
        assertTrue(c.supports(KeyAgreementAlgorithm.X25519), "Ed25519 maps to X25519");
        assertFalse(c.supports(KeyAgreementAlgorithm.P256));
    }

    @Test
    void GRP_05_ed25519CredentialMapsToThePublishedX25519Key() {
        Credential c = Credential.parseCcs(Hex.decode(SERVER_CCS));
        assertArrayEquals(Hex.decode("f9c10483e2d2c9c70bbf6f7e535411daa27f37ff93adfcf5afce9a53986d7a10"),
                c.agreementPublicKey(KeyAgreementAlgorithm.X25519, CryptoProviders.defaultProvider()));
        PrivateKey priv = CryptoProviders.defaultProvider().privateKey(PrivateKey.Type.ED25519,
                SecretBytes.fromHex("857eb61d3f6d70a278a36740d132c099f62880ed497e27bdfd4685fa1a304f26"));
        assertArrayEquals(c.publicKey(), priv.publicKey(), "the published private key belongs to the credential");
        assertArrayEquals(Hex.decode("f9c10483e2d2c9c70bbf6f7e535411daa27f37ff93adfcf5afce9a53986d7a10"),
                CryptoProviders.bouncyCastle().ed25519PrivateToX25519(priv).publicKey());
    }

    @Test
    void GRP_05_ed25519KeysMappingToInfinityAreRefused() {
        // y = 1 (the identity) has no Montgomery image; y = -1 neither
        byte[] yOne = new byte[32];
        yOne[0] = 1;
        assertThrows(IllegalArgumentException.class, () -> CryptoProviders.defaultProvider().ed25519PublicToX25519(yOne));
        // y = p - 1, little-endian: ec ff .. ff 7f
        byte[] yMinusOne = new byte[32];
        java.util.Arrays.fill(yMinusOne, (byte) 0xff);
        yMinusOne[0] = (byte) 0xec;
        yMinusOne[31] = 0x7f;
        assertThrows(IllegalArgumentException.class, () -> CryptoProviders.bouncyCastle().ed25519PublicToX25519(yMinusOne));
    }

    @Test
    void builtCredentialsRoundTripForEveryKeyType() {
        for (PrivateKey.Type t : PrivateKey.Type.values()) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(t);
            Credential c = Credential.ccs("member-" + t, k);
            Credential again = Credential.parseCcs(c.encoded());
            assertEquals(c, again);
            assertArrayEquals(k.publicKey(), again.publicKey());
        }
    }

    @Test
    void malformedCredentialsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Credential.parseCcs(Hex.decode(SERVER_CCS + "00")), "trailing");
        assertThrows(IllegalArgumentException.class, () -> Credential.parseCcs(Hex.decode("a10102")), "no cnf");
        assertThrows(IllegalArgumentException.class, () -> Credential.parseCcs(Hex.decode("ff")), "not CBOR");
        // OKP with crv 7 (Ed448) is not supported
        assertThrows(IllegalArgumentException.class,
                () -> Credential.parseCcs(Hex.decode("a108a101a30101200721582077ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b")));
    }

    @Test
    void privateKeyFilesAreOwnerOnlyAndOptionallyEncrypted() throws Exception {
        PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.P256);
        Path plain = dir.resolve("plain.key");
        PrivateKeyFile.write(plain, k, null);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)));
        assertArrayEquals(k.publicKey(), PrivateKeyFile.read(plain, null, CryptoProviders.defaultProvider()).publicKey());

        Path enc = dir.resolve("enc.key");
        PrivateKeyFile.write(enc, k, "correct horse".toCharArray());
        assertFalse(Files.readString(enc).contains(Hex.encode(k.secret().bytes())), "no key bytes in an encrypted file");
        assertArrayEquals(k.publicKey(),
                PrivateKeyFile.read(enc, "correct horse".toCharArray(), CryptoProviders.defaultProvider()).publicKey());
        assertThrows(java.io.IOException.class,
                () -> PrivateKeyFile.read(enc, "wrong".toCharArray(), CryptoProviders.defaultProvider()));
        assertThrows(java.io.IOException.class, () -> PrivateKeyFile.read(enc, null, CryptoProviders.defaultProvider()));

        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> PrivateKeyFile.read(plain, null, CryptoProviders.defaultProvider()));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        assertFalse(e.getMessage().contains(Hex.encode(k.secret().bytes())));
    }
}
