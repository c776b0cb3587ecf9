package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Credential.parseCcs reads CBOR strictly (GRP-07: the credential's bytes are what every member
 * signs over, so two members must never read one byte string as two different keys). Every
 * refusal sits beside its positive control: the same construction, made valid, parses.
 */
class StrictCcsParsingTest {
    /** The Group Manager's CCS of draft-ietf-core-cacheable-oscore Appendix F.1. */
    static final String GM_CCS = "a501781a636f6170733a2f2f6d79736974652e6578616d706c652e636f6d026c67726f75706d616e6167657203781a636f6170733a2f2f646f6d61696e2e6578616d706c652e6f7267041aab9b154f08a101a4010103272006215820cde3efd3bc3f99c9c9ee210415c6cba55061b5046e963b8a58c9143a61166472";
    static final byte[] X = Hex.decode("cde3efd3bc3f99c9c9ee210415c6cba55061b5046e963b8a58c9143a61166472");
    static final byte[] OTHER_X = Hex.decode("77ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b");
    /** No message may carry a run of hex digits: that would be input bytes. */
    private static final Pattern HEX_RUN = Pattern.compile("[0-9a-fA-F]{8,}");

    /** A CCS {2: "gm", 8: {1: COSE_Key}} where {@code key} writes the COSE_Key map. */
    private static byte[] ccs(Consumer<CborWriter> key) {
        CborWriter w = new CborWriter(128).map(2).integer(2).text("gm").integer(8).map(1).integer(1);
        key.accept(w);
        return w.toByteArray();
    }

    private static void okpEd25519(CborWriter w) {
        w.map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(X);
    }

    private static String refused(byte[] input) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Credential.parseCcs(input));
        assertFalse(HEX_RUN.matcher(e.getMessage()).find(), "no input bytes in the message: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void GRP_07_publishedCredentialsOfAppendixF1Parse() {
        Credential gm = Credential.parseCcs(Hex.decode(GM_CCS));
        assertEquals(Credential.KeyType.OKP_ED25519, gm.keyType());
        assertEquals("groupmanager", gm.subject());
        assertArrayEquals(X, gm.publicKey());
        assertArrayEquals(Hex.decode(GM_CCS), gm.encoded());
        Credential server = Credential.parseCcs(Hex.decode(CredentialTest.SERVER_CCS));
        assertEquals("sender", server.subject());
        // and the construction the tests below vary
        assertArrayEquals(X, Credential.parseCcs(ccs(StrictCcsParsingTest::okpEd25519)).publicKey());
    }

    @Test
    void GRP_07_duplicateMapKeysAreRefused() {
        // claims: sub twice (last-wins would let one byte string name two subjects)
        byte[] twoSubs = new CborWriter(128).map(3).integer(2).text("a").integer(2).text("b").integer(8).map(1).integer(1)
                .raw(coseKey()).toByteArray();
        assertEquals("credential: map key 2 appears twice (at byte 4)", refused(twoSubs));
        byte[] oneSub = new CborWriter(128).map(2).integer(2).text("a").integer(8).map(1).integer(1).raw(coseKey()).toByteArray();
        assertEquals("a", Credential.parseCcs(oneSub).subject());

        // COSE_Key: x twice, the second one another key
        byte[] twoX = ccs(w -> w.map(4).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(X).integer(-2).bytes(OTHER_X));
        assertEquals("credential: map key -2 appears twice (at byte 48)", refused(twoX));
        // cnf: COSE_Key twice
        byte[] twoKeys = new CborWriter(128).map(1).integer(8).map(2).integer(1).raw(coseKey()).integer(1).raw(coseKey()).toByteArray();
        assertEquals("credential: map key 1 appears twice (at byte 44)", refused(twoKeys));
        // a non-minimal encoding of the same label is the same key: 8 as 0x18 0x08
        byte[] nonMinimal = new CborWriter(128).map(2).integer(8).map(1).integer(1).raw(coseKey())
                .raw(new byte[] {0x18, 0x08}).map(1).integer(1).raw(coseKey()).toByteArray();
        assertEquals("credential: map key 8 appears twice (at byte 44)", refused(nonMinimal));
        // and a non-minimal label alone is well-formed
        byte[] nonMinimalOnce = new CborWriter(128).map(1).raw(new byte[] {0x18, 0x08}).map(1).integer(1).raw(coseKey()).toByteArray();
        assertArrayEquals(X, Credential.parseCcs(nonMinimalOnce).publicKey());
    }

    private static byte[] coseKey() {
        CborWriter w = new CborWriter(64);
        okpEd25519(w);
        return w.toByteArray();
    }

    @Test
    void stringKey8DoesNotCollideWithIntegerKey8() {
        // text "8" is a private claim, not cnf: the key comes from integer 8 whatever the order
        byte[] both = new CborWriter(256).map(2)
                .text("8").map(1).integer(1).map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(OTHER_X)
                .integer(8).map(1).integer(1).raw(coseKey()).toByteArray();
        assertArrayEquals(X, Credential.parseCcs(both).publicKey());
        byte[] reversed = new CborWriter(256).map(2)
                .integer(8).map(1).integer(1).raw(coseKey())
                .text("8").map(1).integer(1).map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(OTHER_X)
                .toByteArray();
        assertArrayEquals(X, Credential.parseCcs(reversed).publicKey());
        // text "8" alone is no cnf
        byte[] textOnly = new CborWriter(128).map(1).text("8").map(1).integer(1).raw(coseKey()).toByteArray();
        assertEquals("credential: the CCS has no cnf claim (8)", refused(textOnly));
        // text "1" in cnf is no COSE_Key, text "-2" in a COSE_Key is no x
        byte[] textOne = new CborWriter(128).map(1).integer(8).map(1).text("1").raw(coseKey()).toByteArray();
        assertEquals("credential: claim 8 (cnf) has no COSE_Key (label 1)", refused(textOne));
        byte[] textX = ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(6).text("-2").bytes(X));
        assertEquals("credential: the COSE_Key has no x (label -2)", refused(textX));
    }

    @Test
    void textKtyIsRefused() {
        byte[] text = ccs(w -> w.map(3).integer(1).text("OKP").integer(-1).integer(6).integer(-2).bytes(X));
        assertEquals("credential: COSE_Key label 1 (kty) must be an integer, not a text string", refused(text));
        byte[] integer = ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(X));
        assertEquals(Credential.KeyType.OKP_ED25519, Credential.parseCcs(integer).keyType());
    }

    @Test
    void crvXAndYMustHaveTheirExactTypes() {
        assertEquals("credential: COSE_Key label -1 (crv) must be an integer, not a text string",
                refused(ccs(w -> w.map(3).integer(1).integer(1).integer(-1).text("Ed25519").integer(-2).bytes(X))));
        assertEquals("credential: COSE_Key label -2 (x) must be a byte string, not a text string",
                refused(ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).text("x"))));
        assertEquals("credential: COSE_Key label -2 (x) must be 32 bytes, not 31",
                refused(ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(Arrays.copyOf(X, 31)))));
        // EC2: y a byte string; a boolean y is a compressed point, which is not supported
        PrivateKey p256 = CryptoProviders.defaultProvider().generate(PrivateKey.Type.P256);
        byte[] pub = p256.publicKey();
        byte[] x = Arrays.copyOfRange(pub, 1, 33);
        byte[] y = Arrays.copyOfRange(pub, 33, 65);
        assertArrayEquals(pub, Credential.parseCcs(ccs(w -> w.map(4).integer(1).integer(2).integer(-1).integer(1)
                .integer(-2).bytes(x).integer(-3).bytes(y))).publicKey());
        assertEquals("credential: EC2 P-256 COSE_Key with a compressed point (label -3 is a boolean); only uncompressed points are supported",
                refused(ccs(w -> w.map(4).integer(1).integer(2).integer(-1).integer(1).integer(-2).bytes(x).integer(-3).bool(true))));
        assertEquals("credential: COSE_Key label -3 (y) must be a byte string, not an integer",
                refused(ccs(w -> w.map(4).integer(1).integer(2).integer(-1).integer(1).integer(-2).bytes(x).integer(-3).integer(0))));
        // the claims Coterie reads have their types too
        byte[] numericSub = new CborWriter(128).map(2).integer(2).integer(7).integer(8).map(1).integer(1).raw(coseKey()).toByteArray();
        assertEquals("credential: claim 2 (sub) must be a text string, not an integer (at byte 2)", refused(numericSub));
        byte[] cnfArray = new CborWriter(128).map(1).integer(8).array(1).raw(coseKey()).toByteArray();
        assertEquals("credential: claim 8 (cnf) must be a map, not an array (at byte 2)", refused(cnfArray));
    }

    @Test
    void aCredentialCarryingAPrivateKeyIsRefused() {
        byte[] withD = ccs(w -> w.map(4).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(X).integer(-4).bytes(OTHER_X));
        assertEquals("credential: the COSE_Key carries a private key (label -4, d); a credential must not", refused(withD));
    }

    @Test
    void indefiniteLengthsAreRefused() {
        byte[] published = Hex.decode(GM_CCS);
        // the same claims in an indefinite-length map: 0xbf ... 0xff
        byte[] indefinite = new byte[published.length + 1];
        indefinite[0] = (byte) 0xbf;
        System.arraycopy(published, 1, indefinite, 1, published.length - 1);
        indefinite[published.length] = (byte) 0xff;
        assertEquals("credential: indefinite-length items are not accepted (at byte 0)", refused(indefinite));
        // an indefinite-length text string inside
        byte[] indefText = new CborWriter(64).map(2).integer(2).raw(new byte[] {0x7f, 0x61, 0x61, (byte) 0xff})
                .integer(8).map(1).integer(1).raw(coseKey()).toByteArray();
        assertEquals("credential: indefinite-length items are not accepted (at byte 2)", refused(indefText));
        Credential.parseCcs(published);
    }

    @Test
    void trailingBytesAreRefused() {
        assertEquals("credential: 1 trailing byte(s) after the item (at byte 124)", refused(Hex.decode(GM_CCS + "00")));
        assertEquals("credential: 2 trailing byte(s) after the item (at byte 124)", refused(Hex.decode(GM_CCS + "a0a0")));
        assertEquals(124, Hex.decode(GM_CCS).length);
    }

    @Test
    void everyTruncationOfThePublishedCredentialIsRefused() {
        byte[] published = Hex.decode(GM_CCS);
        for (int n = 0; n < published.length; n++) {
            refused(Arrays.copyOf(published, n));
        }
        Credential.parseCcs(published);
    }

    @Test
    void itemsThatAreNotWellFormedAreRefused() {
        // an unknown claim 99 carries the item under test; a valid one parses
        assertArrayEquals(X, Credential.parseCcs(withClaim99(new byte[] {(byte) 0xf8, 0x20})).publicKey()); // simple(32)
        assertArrayEquals(X, Credential.parseCcs(withClaim99(new byte[] {(byte) 0xf9, 0x3c, 0x00})).publicKey()); // 1.0
        assertArrayEquals(X, Credential.parseCcs(withClaim99(new byte[] {(byte) 0xc1, 0x1a, 0, 0, 0, 1})).publicKey()); // tag 1
        assertEquals("credential: simple value 5 in two bytes (not well-formed) (at byte 3)",
                refused(withClaim99(new byte[] {(byte) 0xf8, 0x05})));
        assertEquals("credential: reserved additional information 28 (not well-formed) (at byte 3)",
                refused(withClaim99(new byte[] {0x1c})));
        assertEquals("credential: a break code outside an indefinite-length item (not well-formed) (at byte 3)",
                refused(withClaim99(new byte[] {(byte) 0xff})));
        assertEquals("credential: text string is not valid UTF-8 (at byte 4)",
                refused(withClaim99(new byte[] {0x62, (byte) 0xc3, 0x28})));
        assertEquals("credential: integer out of range (at byte 3)",
                refused(withClaim99(new byte[] {0x1b, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0})));
        assertEquals("credential: map keys must be integers or text strings, found a byte string (at byte 1)",
                refused(new CborWriter(64).map(1).bytes(new byte[] {8}).map(0).toByteArray()));
        assertEquals("credential: a CCS is a CBOR map, not an array (at byte 0)", refused(new byte[] {(byte) 0x80}));
    }

    private static byte[] withClaim99(byte[] item) {
        return new CborWriter(128).map(2).integer(99).raw(item).integer(8).map(1).integer(1).raw(coseKey()).toByteArray();
    }

    @Test
    void nestingIsBounded() {
        assertArrayEquals(X, Credential.parseCcs(withClaim99(nestedArrays(CborReader.MAX_DEPTH - 1))).publicKey());
        assertEquals("credential: nesting deeper than 8 levels (at byte 11)", refused(withClaim99(nestedArrays(CborReader.MAX_DEPTH))));
        // a very deep input ends in a refusal, not a stack overflow
        refused(withClaim99(nestedArrays(100_000)));
    }

    /** {@code depth} arrays of one, around an integer. */
    private static byte[] nestedArrays(int depth) {
        byte[] b = new byte[depth + 1];
        Arrays.fill(b, 0, depth, (byte) 0x81);
        return b;
    }

    @Test
    void declaredLengthsBeyondTheInputAllocateNothing() {
        // each header claims far more than the input holds; parsing must fail at once, not allocate
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertEquals("credential: a string declares more bytes than the 0 left (at byte 51)",
                    refused(withHeaderOnly(new byte[] {0x5a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff})));
            assertEquals("credential: a string declares more bytes than the 0 left (at byte 55)",
                    refused(withHeaderOnly(new byte[] {0x7b, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                            (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff})));
            assertEquals("credential: an array declares more items than the 0 bytes left can hold (at byte 51)",
                    refused(withHeaderOnly(new byte[] {(byte) 0x9a, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff})));
            assertEquals("credential: a map declares more pairs than the 0 bytes left can hold (at byte 5)",
                    refused(new byte[] {(byte) 0xba, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
        });
        // the same headers with their content present parse
        assertArrayEquals(X, Credential.parseCcs(withClaim99(new byte[] {0x5a, 0, 0, 0, 1, 7})).publicKey());
    }

    /** {cnf..., 99: HEADER} with nothing after the header. */
    private static byte[] withHeaderOnly(byte[] header) {
        return new CborWriter(128).map(2).integer(8).map(1).integer(1).raw(coseKey()).integer(99).raw(header).toByteArray();
    }

    @Test
    void unsupportedKeyTypesAndCurvesAreNamed() {
        assertEquals("credential: unsupported COSE_Key kty 4 (OKP 1, EC2 2)",
                refused(ccs(w -> w.map(2).integer(1).integer(4).integer(-1).bytes(X))));
        assertEquals("credential: unsupported OKP crv 7 (Ed25519 6, X25519 4)",
                refused(ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(7).integer(-2).bytes(X))));
        assertEquals(Credential.KeyType.OKP_X25519,
                Credential.parseCcs(ccs(w -> w.map(3).integer(1).integer(1).integer(-1).integer(4).integer(-2).bytes(X))).keyType());
    }
}
