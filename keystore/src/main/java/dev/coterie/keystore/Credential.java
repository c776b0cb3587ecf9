package dev.coterie.keystore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.io.IOException;
import java.util.Arrays;

/**
 * An authentication credential in the CWT Claims Set format (CCS, RFC 8392 / RFC 9528), kept
 * byte for byte as distributed (Group OSCORE Section 2.4.1, GRP-07): those exact bytes enter
 * the external_aad and the pairwise-key IKM. The public key is read from the {@code cnf} claim
 * (8) holding a COSE_Key (1): OKP Ed25519 or X25519, or EC2 P-256.
 */
public final class Credential {
    /** COSE header parameter label of the kccs credential format (Group OSCORE's default). */
    public static final int FORMAT_KCCS = 14;

    public enum KeyType { OKP_ED25519, OKP_X25519, EC2_P256 }

    private static final CBORMapper CBOR = new CBORMapper();

    private final byte[] encoded;
    private final KeyType keyType;
    private final byte[] publicKey;
    private final String subject;

    private Credential(byte[] encoded, KeyType keyType, byte[] publicKey, String subject) {
        this.encoded = encoded;
        this.keyType = keyType;
        this.publicKey = publicKey;
        this.subject = subject;
    }

    /** Parses an untagged CCS; anything malformed or unsupported is an {@link IllegalArgumentException}. */
    public static Credential parseCcs(byte[] ccs) {
        JsonNode root;
        try {
            root = CBOR.readTree(ccs);
        } catch (IOException e) {
            throw new IllegalArgumentException("credential is not well-formed CBOR");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("a CCS is a CBOR map");
        }
        if (!Arrays.equals(reencodeLength(ccs), ccs)) {
            throw new IllegalArgumentException("trailing bytes after the CCS");
        }
        JsonNode cnf = root.get("8");
        JsonNode key = cnf == null ? null : cnf.get("1");
        if (key == null || !key.isObject()) {
            throw new IllegalArgumentException("CCS has no cnf / COSE_Key");
        }
        int kty = key.path("1").asInt(0);
        int crv = key.path("-1").asInt(0);
        byte[] x = binary(key.get("-2"));
        KeyType type;
        byte[] pub;
        if (kty == 1 && crv == 6 && x != null && x.length == 32) {
            type = KeyType.OKP_ED25519;
            pub = x;
        } else if (kty == 1 && crv == 4 && x != null && x.length == 32) {
            type = KeyType.OKP_X25519;
            pub = x;
        } else if (kty == 2 && crv == 1 && x != null && x.length == 32) {
            byte[] y = binary(key.get("-3"));
            if (y == null || y.length != 32) {
                throw new IllegalArgumentException("EC2 P-256 COSE_Key needs a 32-byte y (compressed points are not supported)");
            }
            pub = new byte[65];
            pub[0] = 4;
            System.arraycopy(x, 0, pub, 1, 32);
            System.arraycopy(y, 0, pub, 33, 32);
            type = KeyType.EC2_P256;
        } else {
            throw new IllegalArgumentException("unsupported COSE_Key (kty " + kty + ", crv " + crv + ")");
        }
        JsonNode sub = root.get("2");
        return new Credential(ccs.clone(), type, pub, sub != null && sub.isTextual() ? sub.asText() : null);
    }

    private static byte[] reencodeLength(byte[] ccs) {
        // Jackson stops after the first item; find where it ended by parsing with a parser
        try (var p = CBOR.getFactory().createParser(ccs)) {
            p.nextToken();
            p.skipChildren();
            long end = p.currentLocation().getByteOffset();
            return Arrays.copyOf(ccs, (int) end);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static byte[] binary(JsonNode n) {
        if (n == null || !n.isBinary()) {
            return null;
        }
        try {
            return n.binaryValue();
        } catch (IOException e) {
            return null;
        }
    }

    /** Builds a CCS {2: subject, 8: {1: COSE_Key}} for a public key (deterministic encoding). */
    public static Credential ccs(String subject, PrivateKey key) {
        byte[] pub = key.publicKey();
        CborWriter w = new CborWriter(128).map(2).integer(2).text(subject).integer(8).map(1).integer(1);
        switch (key.type()) {
            case ED25519:
                w.map(3).integer(1).integer(1).integer(-1).integer(6).integer(-2).bytes(pub);
                break;
            case X25519:
                w.map(3).integer(1).integer(1).integer(-1).integer(4).integer(-2).bytes(pub);
                break;
            default:
                w.map(4).integer(1).integer(2).integer(-1).integer(1)
                        .integer(-2).bytes(Arrays.copyOfRange(pub, 1, 33)).integer(-3).bytes(Arrays.copyOfRange(pub, 33, 65));
        }
        return parseCcs(w.toByteArray());
    }

    /** The credential exactly as distributed. */
    public byte[] encoded() {
        return encoded.clone();
    }

    /** Direct access for the per-message AAD (callers must not modify it). */
    public byte[] encodedUnsafe() {
        return encoded;
    }

    public KeyType keyType() {
        return keyType;
    }

    public String subject() {
        return subject;
    }

    /** The public key: 32 bytes for OKP, 65 bytes (04 || x || y) for P-256. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** Whether this credential's key can verify signatures of {@code alg}. */
    public boolean supports(SignatureAlgorithm alg) {
        return alg == SignatureAlgorithm.EDDSA_ED25519 ? keyType == KeyType.OKP_ED25519 : keyType == KeyType.EC2_P256;
    }

    /**
     * Whether this credential's key can do {@code alg} key agreement (an Ed25519 key maps to
     * X25519, Group OSCORE Section 2.5.1).
     */
    public boolean supports(KeyAgreementAlgorithm alg) {
        return alg == KeyAgreementAlgorithm.X25519 ? keyType != KeyType.EC2_P256 : keyType == KeyType.EC2_P256;
    }

    /** The public key to use for {@code alg} key agreement, mapping Ed25519 to X25519 when needed. */
    public byte[] agreementPublicKey(KeyAgreementAlgorithm alg, CryptoProvider provider) {
        if (!supports(alg)) {
            throw new IllegalArgumentException("credential key " + keyType + " cannot do " + alg);
        }
        return keyType == KeyType.OKP_ED25519 ? provider.ed25519PublicToX25519(publicKey) : publicKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credential c && Arrays.equals(encoded, c.encoded);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encoded);
    }

    @Override
    public String toString() {
        return "Credential[" + keyType + (subject != null ? ", sub " + subject : "") + ", " + encoded.length + " bytes]";
    }
}
