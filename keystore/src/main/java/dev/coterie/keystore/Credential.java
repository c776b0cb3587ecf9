package dev.coterie.keystore;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

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

    /**
     * Parses an untagged CCS strictly (see {@link CborReader}): definite lengths, no duplicate map
     * keys, integer labels where CWT and COSE define them (text key "8" is not claim 8), and exact
     * types for the claims and COSE_Key parameters Coterie reads. Anything malformed or
     * unsupported is an {@link IllegalArgumentException} whose message never repeats input bytes.
     */
    public static Credential parseCcs(byte[] ccs) {
        if (ccs == null || ccs.length == 0) {
            throw new IllegalArgumentException("credential: empty");
        }
        CborReader r = new CborReader(ccs, "credential");
        if (r.peekMajorType() != CborReader.MAP) {
            throw r.error("a CCS is a CBOR map, not " + r.peekKind());
        }
        int claims = r.readMapHeader();
        Set<Object> seen = new HashSet<>();
        String subject = null;
        Object[] key = null;
        for (int i = 0; i < claims; i++) {
            Object label = r.readKey(seen);
            long claim = label instanceof Long l ? l : Long.MIN_VALUE; // a text-named claim is none Coterie reads
            if (claim == 1 || claim == 3) {
                text(r, "claim " + claim + (claim == 1 ? " (iss)" : " (aud)"));
            } else if (claim == 2) {
                subject = text(r, "claim 2 (sub)");
            } else if (claim >= 4 && claim <= 6) {
                // NumericDate: an integer or a float (RFC 8392 Section 2)
                String field = "claim " + claim + (claim == 4 ? " (exp)" : claim == 5 ? " (nbf)" : " (iat)");
                String kind = r.peekKind();
                if (!kind.equals("an integer") && !kind.equals("a float")) {
                    throw r.error(field + " must be a number, not " + kind);
                }
                r.skip(1);
            } else if (claim == 7) {
                bytes(r, "claim 7 (cti)");
            } else if (claim == 8) {
                key = cnf(r);
            } else {
                r.skip(1);
            }
        }
        r.end();
        if (key == null) {
            throw new IllegalArgumentException("credential: the CCS has no cnf claim (8)");
        }
        return new Credential(ccs.clone(), (KeyType) key[0], (byte[]) key[1], subject);
    }

    /** The cnf claim: a map whose label 1 holds the COSE_Key; returns {KeyType, public key}. */
    private static Object[] cnf(CborReader r) {
        if (r.peekMajorType() != CborReader.MAP) {
            throw r.error("claim 8 (cnf) must be a map, not " + r.peekKind());
        }
        int n = r.readMapHeader();
        Set<Object> seen = new HashSet<>();
        Object[] key = null;
        for (int i = 0; i < n; i++) {
            Object label = r.readKey(seen);
            if (Long.valueOf(1).equals(label)) {
                key = coseKey(r);
            } else {
                r.skip(2);
            }
        }
        if (key == null) {
            throw new IllegalArgumentException("credential: claim 8 (cnf) has no COSE_Key (label 1)");
        }
        return key;
    }

    private static Object[] coseKey(CborReader r) {
        if (r.peekMajorType() != CborReader.MAP) {
            throw r.error("cnf label 1 (COSE_Key) must be a map, not " + r.peekKind());
        }
        int n = r.readMapHeader();
        Set<Object> seen = new HashSet<>();
        // the meaning of labels -1 to -4 depends on kty, which may come later: keep the values first
        Map<Long, Object> params = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Object label = r.readKey(seen);
            Object value = r.readValue(3);
            if (label instanceof Long l && l >= -4 && l <= 5) {
                params.put(l, value);
            }
        }
        expect(params, 2L, "kid", byte[].class);
        if (params.containsKey(3L) && !(params.get(3L) instanceof Long) && !(params.get(3L) instanceof String)) {
            throw new IllegalArgumentException("credential: COSE_Key label 3 (alg) must be an integer or a text string, not "
                    + CborReader.kindOf(params.get(3L)));
        }
        if (params.containsKey(4L) && !(params.get(4L) instanceof CborReader.Skipped s && s.kind().equals("an array"))) {
            throw new IllegalArgumentException("credential: COSE_Key label 4 (key_ops) must be an array, not "
                    + CborReader.kindOf(params.get(4L)));
        }
        expect(params, 5L, "Base IV", byte[].class);
        if (!params.containsKey(1L)) {
            throw new IllegalArgumentException("credential: the COSE_Key has no kty (label 1)");
        }
        long kty = (Long) expect(params, 1L, "kty", Long.class);
        if (kty != 1 && kty != 2) {
            throw new IllegalArgumentException("credential: unsupported COSE_Key kty " + kty + " (OKP 1, EC2 2)");
        }
        if (params.containsKey(-4L)) {
            throw new IllegalArgumentException("credential: the COSE_Key carries a private key (label -4, d); a credential must not");
        }
        Object crvValue = expect(params, -1L, "crv", Long.class);
        if (crvValue == null) {
            throw new IllegalArgumentException("credential: the COSE_Key has no crv (label -1)");
        }
        long crv = (Long) crvValue;
        byte[] x = (byte[]) expect(params, -2L, "x", byte[].class);
        if (x == null) {
            throw new IllegalArgumentException("credential: the COSE_Key has no x (label -2)");
        }
        if (x.length != 32) {
            throw new IllegalArgumentException("credential: COSE_Key label -2 (x) must be 32 bytes, not " + x.length);
        }
        if (kty == 1) {
            if (crv != 6 && crv != 4) {
                throw new IllegalArgumentException("credential: unsupported OKP crv " + crv + " (Ed25519 6, X25519 4)");
            }
            return new Object[] {crv == 6 ? KeyType.OKP_ED25519 : KeyType.OKP_X25519, x};
        }
        if (crv != 1) {
            throw new IllegalArgumentException("credential: unsupported EC2 crv " + crv + " (P-256 1)");
        }
        Object y = params.get(-3L);
        if (y instanceof Boolean) {
            throw new IllegalArgumentException("credential: EC2 P-256 COSE_Key with a compressed point (label -3 is a boolean);"
                    + " only uncompressed points are supported");
        }
        if (y == null) {
            throw new IllegalArgumentException("credential: the EC2 COSE_Key has no y (label -3)");
        }
        byte[] yb = (byte[]) expect(params, -3L, "y", byte[].class);
        if (yb.length != 32) {
            throw new IllegalArgumentException("credential: COSE_Key label -3 (y) must be 32 bytes, not " + yb.length);
        }
        byte[] pub = new byte[65];
        pub[0] = 4;
        System.arraycopy(x, 0, pub, 1, 32);
        System.arraycopy(yb, 0, pub, 33, 32);
        return new Object[] {KeyType.EC2_P256, pub};
    }

    /** The value of a COSE_Key label, or null when absent; refuses one of another type. */
    private static Object expect(Map<Long, Object> params, long label, String name, Class<?> type) {
        Object v = params.get(label);
        if (v != null && !type.isInstance(v)) {
            throw new IllegalArgumentException("credential: COSE_Key label " + label + " (" + name + ") must be "
                    + (type == Long.class ? "an integer" : "a byte string") + ", not " + CborReader.kindOf(v));
        }
        return v;
    }

    private static String text(CborReader r, String field) {
        if (r.peekMajorType() != CborReader.TEXT) {
            throw r.error(field + " must be a text string, not " + r.peekKind());
        }
        return r.readText();
    }

    private static byte[] bytes(CborReader r, String field) {
        if (r.peekMajorType() != CborReader.BYTES) {
            throw r.error(field + " must be a byte string, not " + r.peekKind());
        }
        return r.readBytes();
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
