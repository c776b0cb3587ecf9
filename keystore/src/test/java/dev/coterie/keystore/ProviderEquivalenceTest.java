package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The default provider (JDK AES/HMAC, Bouncy Castle curves) and the Bouncy Castle-only provider
 * must agree bit for bit on thousands of random inputs.
 */
class ProviderEquivalenceTest {
    private static final CryptoProvider DEF = CryptoProviders.defaultProvider();
    private static final CryptoProvider BC = CryptoProviders.bouncyCastle();

    @ParameterizedTest
    @EnumSource(AeadAlgorithm.class)
    void aead_sealAndOpenAgreeOnRandomInputs(AeadAlgorithm alg) throws Exception {
        Random r = new Random(alg.coseId() * 7919L);
        for (int i = 0; i < 1500; i++) {
            byte[] key = bytes(r, alg.keyLength());
            byte[] nonce = bytes(r, alg.nonceLength());
            byte[] aad = bytes(r, r.nextInt(4) == 0 ? 0 : r.nextInt(300));
            byte[] pt = bytes(r, r.nextInt(4) == 0 ? r.nextInt(2) : r.nextInt(1100));
            AeadKey d = DEF.aeadKey(alg, SecretBytes.copyOf(key));
            AeadKey b = BC.aeadKey(alg, SecretBytes.copyOf(key));
            byte[] c1 = d.seal(nonce, aad, pt);
            byte[] c2 = b.seal(nonce, aad, pt);
            assertArrayEquals(c2, c1, alg + " ciphertext differs at input " + i);
            assertEquals(pt.length + alg.tagLength(), c1.length);
            assertArrayEquals(pt, d.open(nonce, aad, c2));
            assertArrayEquals(pt, b.open(nonce, aad, c1));
            byte[] bad = c1.clone();
            bad[r.nextInt(bad.length)] ^= (byte) (1 << r.nextInt(8));
            assertThrows(AeadFailure.class, () -> d.open(nonce, aad, bad));
            assertThrows(AeadFailure.class, () -> b.open(nonce, aad, bad));
        }
    }

    /**
     * One-shot keys (deterministic requests) key the calling thread's ciphers at each call: two
     * keys interleaved on one thread, and one key used from two threads, must still give exactly
     * the Bouncy Castle results.
     */
    @ParameterizedTest
    @EnumSource(AeadAlgorithm.class)
    void aead_oneShotKeysInterleavedAndAcrossThreadsAgree(AeadAlgorithm alg) throws Exception {
        Random r = new Random(alg.coseId() * 31L);
        for (int i = 0; i < 300; i++) {
            byte[] k1 = bytes(r, alg.keyLength());
            byte[] k2 = bytes(r, alg.keyLength());
            byte[] nonce = bytes(r, alg.nonceLength());
            byte[] aad = bytes(r, r.nextInt(100));
            byte[] pt = bytes(r, r.nextInt(300));
            AeadKey a = DEF.oneShotAeadKey(alg, SecretBytes.copyOf(k1));
            AeadKey b = DEF.oneShotAeadKey(alg, SecretBytes.copyOf(k2));
            byte[] ca = a.seal(nonce, aad, pt);
            byte[] cb = b.seal(nonce, aad, pt);
            assertArrayEquals(BC.aeadKey(alg, SecretBytes.copyOf(k1)).seal(nonce, aad, pt), ca);
            assertArrayEquals(BC.aeadKey(alg, SecretBytes.copyOf(k2)).seal(nonce, aad, pt), cb);
            byte[][] opened = new byte[1][];
            Thread t = new Thread(() -> {
                try {
                    opened[0] = a.open(nonce, aad, ca);
                } catch (AeadFailure e) {
                    opened[0] = null;
                }
            });
            t.start();
            t.join();
            assertArrayEquals(pt, opened[0]);
            assertThrows(AeadFailure.class, () -> b.open(nonce, aad, ca));
            assertArrayEquals(pt, b.open(nonce, aad, cb));
        }
    }

    @Test
    void aead_ciphertextShorterThanTagIsAFailureNotAnException() {
        for (AeadAlgorithm alg : AeadAlgorithm.values()) {
            AeadKey d = DEF.aeadKey(alg, SecretBytes.copyOf(new byte[alg.keyLength()]));
            AeadKey b = BC.aeadKey(alg, SecretBytes.copyOf(new byte[alg.keyLength()]));
            byte[] nonce = new byte[alg.nonceLength()];
            assertThrows(AeadFailure.class, () -> d.open(nonce, new byte[0], new byte[alg.tagLength() - 1]));
            assertThrows(AeadFailure.class, () -> b.open(nonce, new byte[0], new byte[alg.tagLength() - 1]));
        }
    }

    @ParameterizedTest
    @EnumSource(HkdfAlgorithm.class)
    void hkdf_agreesOnRandomInputs(HkdfAlgorithm alg) {
        Random r = new Random(alg.coseId());
        for (int i = 0; i < 3000; i++) {
            byte[] salt = bytes(r, r.nextInt(3) == 0 ? 0 : r.nextInt(80));
            byte[] ikm = bytes(r, 1 + r.nextInt(64));
            byte[] info = bytes(r, r.nextInt(40));
            int len = 1 + r.nextInt(100);
            SecretBytes a = DEF.hkdf(alg, salt, SecretBytes.copyOf(ikm), info, len);
            SecretBytes b = BC.hkdf(alg, salt, SecretBytes.copyOf(ikm), info, len);
            assertEquals(b, a, "HKDF output differs at input " + i);
        }
    }

    @Test
    void sha256_agreesOnRandomInputs() {
        Random r = new Random(256);
        for (int i = 0; i < 3000; i++) {
            byte[] m = bytes(r, r.nextInt(500));
            assertArrayEquals(BC.sha256(m), DEF.sha256(m));
        }
    }

    @Test
    void signatures_agreeAndCrossVerify() {
        Random r = new Random(25519);
        for (int i = 0; i < 300; i++) {
            for (PrivateKey.Type type : new PrivateKey.Type[] {PrivateKey.Type.ED25519, PrivateKey.Type.P256}) {
                SignatureAlgorithm alg = type == PrivateKey.Type.ED25519 ? SignatureAlgorithm.EDDSA_ED25519 : SignatureAlgorithm.ES256;
                PrivateKey k = DEF.generate(type);
                byte[] m = bytes(r, r.nextInt(200));
                byte[] s1 = DEF.sign(alg, k, m);
                byte[] s2 = BC.sign(alg, k, m);
                assertArrayEquals(s2, s1, alg + " is deterministic in both providers");
                assertTrue(BC.verify(alg, k.publicKey(), m, s1));
                assertTrue(DEF.verify(alg, k.publicKey(), m, s2));
                s1[r.nextInt(64)] ^= 1;
                assertFalse(DEF.verify(alg, k.publicKey(), m, s1));
                assertFalse(BC.verify(alg, k.publicKey(), m, s1));
            }
        }
    }

    @Test
    void keyAgreement_agreesAndIsSymmetric() {
        for (int i = 0; i < 200; i++) {
            PrivateKey a = DEF.generate(PrivateKey.Type.X25519);
            PrivateKey b = BC.generate(PrivateKey.Type.X25519);
            assertEquals(DEF.agree(KeyAgreementAlgorithm.X25519, a, b.publicKey()),
                    BC.agree(KeyAgreementAlgorithm.X25519, b, a.publicKey()));
            PrivateKey p = DEF.generate(PrivateKey.Type.P256);
            PrivateKey q = BC.generate(PrivateKey.Type.P256);
            assertEquals(DEF.agree(KeyAgreementAlgorithm.P256, p, q.publicKey()),
                    BC.agree(KeyAgreementAlgorithm.P256, q, p.publicKey()));
        }
    }

    @Test
    void ed25519ToX25519_mappedPrivateMatchesMappedPublic() {
        for (int i = 0; i < 200; i++) {
            PrivateKey ed = DEF.generate(PrivateKey.Type.ED25519);
            PrivateKey x = DEF.ed25519PrivateToX25519(ed);
            assertArrayEquals(x.publicKey(), DEF.ed25519PublicToX25519(ed.publicKey()));
            assertArrayEquals(x.publicKey(), BC.ed25519PrivateToX25519(ed).publicKey());
            assertArrayEquals(x.publicKey(), BC.ed25519PublicToX25519(ed.publicKey()));
        }
    }

    @Test
    void aesCcm_rfc3610PacketVector1() throws Exception {
        // RFC 3610 Section 8, Packet Vector #1 (M = 8, L = 2): CCM independent of OSCORE
        byte[] key = Hex.decode("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
        byte[] nonce = Hex.decode("00000003020100a0a1a2a3a4a5");
        byte[] aad = Hex.decode("0001020304050607");
        byte[] pt = Hex.decode("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e");
        byte[] expected = Hex.decode("588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0");
        for (CryptoProvider p : new CryptoProvider[] {DEF, BC}) {
            AeadKey k = p.aeadKey(AeadAlgorithm.AES_CCM_16_64_128, SecretBytes.copyOf(key));
            assertArrayEquals(expected, k.seal(nonce, aad, pt), p.name());
        }
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }
}
