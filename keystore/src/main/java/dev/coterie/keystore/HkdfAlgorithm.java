package dev.coterie.keystore;

/** HKDF as named by COSE (the HMAC algorithm identifiers 5 and 7, RFC 8613 Section 3.2.1). */
public enum HkdfAlgorithm {
    HKDF_SHA_256(5, "HmacSHA256", 32),
    HKDF_SHA_512(7, "HmacSHA512", 64);

    private final int coseId;
    private final String jdkMac;
    private final int hashLength;

    HkdfAlgorithm(int coseId, String jdkMac, int hashLength) {
        this.coseId = coseId;
        this.jdkMac = jdkMac;
        this.hashLength = hashLength;
    }

    public int coseId() { return coseId; }
    String jdkMac() { return jdkMac; }
    public int hashLength() { return hashLength; }

    public static HkdfAlgorithm parse(String s) {
        String t = s.trim().toUpperCase().replace('-', '_').replace(' ', '_');
        switch (t) {
            case "5": case "HKDF_SHA_256": case "HKDF_SHA256": case "HMAC_256/256": return HKDF_SHA_256;
            case "7": case "HKDF_SHA_512": case "HKDF_SHA512": case "HMAC_512/512": return HKDF_SHA_512;
            default: throw new IllegalArgumentException("unsupported HKDF algorithm " + s);
        }
    }
}
