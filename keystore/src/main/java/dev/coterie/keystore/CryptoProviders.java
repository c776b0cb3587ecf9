package dev.coterie.keystore;

/** Access to the two providers. Neither is a process-wide setting: callers pass one explicitly. */
public final class CryptoProviders {
    private static final CryptoProvider DEFAULT = new DefaultCryptoProvider();
    private static final CryptoProvider BC = new BouncyCastleCryptoProvider();

    private CryptoProviders() {
    }

    /** The fastest verified implementation per primitive (JDK AES/HMAC, Bouncy Castle curves). */
    public static CryptoProvider defaultProvider() {
        return DEFAULT;
    }

    /** Bouncy Castle's lightweight classes only; the reference the default is checked against. */
    public static CryptoProvider bouncyCastle() {
        return BC;
    }

    public static CryptoProvider byName(String name) {
        switch (name) {
            case "default": return DEFAULT;
            case "bc": return BC;
            default: throw new IllegalArgumentException("unknown crypto provider '" + name + "' (default|bc)");
        }
    }
}
