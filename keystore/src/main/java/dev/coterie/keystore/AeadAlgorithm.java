package dev.coterie.keystore;

/** The AEAD algorithms of RFC 8152 / RFC 9053 that OSCORE can use, by COSE identifier. */
public enum AeadAlgorithm {
    AES_CCM_16_64_128(10, Family.CCM, 16, 13, 8),
    AES_CCM_16_64_256(11, Family.CCM, 32, 13, 8),
    AES_CCM_64_64_128(12, Family.CCM, 16, 7, 8),
    AES_CCM_64_64_256(13, Family.CCM, 32, 7, 8),
    AES_CCM_16_128_128(30, Family.CCM, 16, 13, 16),
    AES_CCM_16_128_256(31, Family.CCM, 32, 13, 16),
    AES_CCM_64_128_128(32, Family.CCM, 16, 7, 16),
    AES_CCM_64_128_256(33, Family.CCM, 32, 7, 16),
    A128GCM(1, Family.GCM, 16, 12, 16),
    A256GCM(3, Family.GCM, 32, 12, 16),
    CHACHA20_POLY1305(24, Family.CHACHA20_POLY1305, 32, 12, 16);

    public enum Family { CCM, GCM, CHACHA20_POLY1305 }

    private final int coseId;
    private final Family family;
    private final int keyLength;
    private final int nonceLength;
    private final int tagLength;

    AeadAlgorithm(int coseId, Family family, int keyLength, int nonceLength, int tagLength) {
        this.coseId = coseId;
        this.family = family;
        this.keyLength = keyLength;
        this.nonceLength = nonceLength;
        this.tagLength = tagLength;
    }

    public int coseId() { return coseId; }
    public Family family() { return family; }
    public int keyLength() { return keyLength; }
    public int nonceLength() { return nonceLength; }
    public int tagLength() { return tagLength; }

    /**
     * The confidentiality limit q: how many messages one key may encrypt (draft-ietf-core-oscore-
     * key-limits Section 2.1.1; the same values in -01, -04 and the -05 editor's copy).
     * The draft recommends q = 2^20 for every algorithm it covers, AEAD_AES_128_CCM_8 included.
     * Counted by Sender Sequence Number ({@code senderSequence().limit(q - 1)}) this misses
     * responses that reuse the request's nonce: those encrypt with the Sender Key too, so count
     * them with {@link KeyUsageCounter#encryptions(AeadAlgorithm)} or use the draft's estimate.
     */
    public long confidentialityLimit() {
        return 1L << 20;
    }

    /**
     * The integrity limit v: how many failed decryptions one key may see before it must not be
     * used to decrypt any more (same section). The draft gives v = 2^20 for AEAD_AES_128_CCM (16-byte
     * tag), AES-GCM and ChaCha20/Poly1305 (with l = 2^10 blocks), and v = 2^14 for
     * AEAD_AES_128_CCM_8 (with l = 2^8; its appendix also mentions 2^10, but the recommendation
     * is 2^14). The forgery bound of CCM depends on the tag length, not on the key length or the
     * nonce length, so the 8-byte-tag values apply to all of COSE 10 to 13 and the 16-byte-tag
     * ones to COSE 30 to 33, which the draft does not list by name.
     */
    public long integrityLimit() {
        return family == Family.CCM && tagLength == 8 ? 1L << 14 : 1L << 20;
    }

    public static AeadAlgorithm fromCoseId(int id) {
        for (AeadAlgorithm a : values()) {
            if (a.coseId == id) {
                return a;
            }
        }
        throw new IllegalArgumentException("unsupported AEAD algorithm " + id);
    }

    /** Accepts a COSE identifier ("10") or a name ("AES-CCM-16-64-128", "AES_CCM_16_64_128"). */
    public static AeadAlgorithm parse(String s) {
        String t = s.trim();
        if (t.matches("-?\\d+")) {
            return fromCoseId(Integer.parseInt(t));
        }
        String norm = t.toUpperCase().replace('-', '_');
        if (norm.equals("CHACHA20/POLY1305")) {
            return CHACHA20_POLY1305;
        }
        return valueOf(norm);
    }

    public String coseName() {
        return name().replace('_', '-').replace("CHACHA20-POLY1305", "ChaCha20/Poly1305");
    }
}
