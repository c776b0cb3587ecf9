package dev.coterie.keystore;

/**
 * COSE hash algorithms (RFC 9054), used as the group's det_hash_alg for deterministic requests
 * (draft-ietf-core-cacheable-oscore Section 3).
 */
public enum HashAlgorithm {
    SHA_256(-16, "SHA-256", 32),
    SHA_384(-43, "SHA-384", 48),
    SHA_512(-44, "SHA-512", 64);

    private final int coseId;
    private final String jdkName;
    private final int length;

    HashAlgorithm(int coseId, String jdkName, int length) {
        this.coseId = coseId;
        this.jdkName = jdkName;
        this.length = length;
    }

    public int coseId() { return coseId; }
    String jdkName() { return jdkName; }
    public int length() { return length; }

    public static HashAlgorithm fromCoseId(int id) {
        for (HashAlgorithm h : values()) {
            if (h.coseId == id) {
                return h;
            }
        }
        throw new IllegalArgumentException("unsupported hash algorithm " + id + " (SHA-256 -16, SHA-384 -43, SHA-512 -44)");
    }

    /** Accepts a COSE identifier ("-16") or a name ("SHA-256"). */
    public static HashAlgorithm parse(String s) {
        String t = s.trim();
        if (t.matches("-?\\d+")) {
            return fromCoseId(Integer.parseInt(t));
        }
        switch (t.toUpperCase().replace("_", "-")) {
            case "SHA-256": return SHA_256;
            case "SHA-384": return SHA_384;
            case "SHA-512": return SHA_512;
            default: throw new IllegalArgumentException("unsupported hash algorithm " + s + " (SHA-256, SHA-384, SHA-512)");
        }
    }

    public String coseName() {
        return name().replace('_', '-');
    }
}
