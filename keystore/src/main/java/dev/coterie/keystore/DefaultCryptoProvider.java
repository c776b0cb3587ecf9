package dev.coterie.keystore;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The fastest verified implementation per primitive, as measured on the target machines:
 * AES-CCM on the JDK's AES (about 5x Bouncy Castle's CCM class), HKDF on the JDK's HMAC (about
 * 5x), GCM and ChaCha20-Poly1305 from the JDK, and Bouncy Castle for every curve operation
 * (7-20x the JDK's signatures).
 */
final class DefaultCryptoProvider implements CryptoProvider {

    @Override
    public String name() {
        return "default";
    }

    @Override
    public AeadKey aeadKey(AeadAlgorithm alg, SecretBytes key) {
        if (key.length() != alg.keyLength()) {
            throw new IllegalArgumentException(alg + " needs a " + alg.keyLength() + "-byte key");
        }
        switch (alg.family()) {
            case CCM: return new JdkCcm(alg, key);
            case GCM: return new JdkAead(alg, key, "AES/GCM/NoPadding", "AES");
            default: return new JdkAead(alg, key, "ChaCha20-Poly1305", "ChaCha20");
        }
    }

    @Override
    public AeadKey oneShotAeadKey(AeadAlgorithm alg, SecretBytes key) {
        if (alg.family() == AeadAlgorithm.Family.CCM && key.length() == alg.keyLength()) {
            return JdkCcm.oneShot(alg, key);
        }
        return aeadKey(alg, key);
    }

    /** One HMAC object per thread and algorithm: Mac.getInstance is a JCA lookup each time. */
    private static final java.util.Map<HkdfAlgorithm, ThreadLocal<Mac>> MACS = new java.util.EnumMap<>(HkdfAlgorithm.class);

    static {
        for (HkdfAlgorithm a : HkdfAlgorithm.values()) {
            MACS.put(a, ThreadLocal.withInitial(() -> {
                try {
                    return Mac.getInstance(a.jdkMac());
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("JDK HMAC unavailable", e);
                }
            }));
        }
    }

    @Override
    public SecretBytes hkdf(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, int length) {
        try {
            Mac mac = MACS.get(alg).get();
            byte[] s = salt == null || salt.length == 0 ? new byte[alg.hashLength()] : salt;
            mac.init(new SecretKeySpec(s, alg.jdkMac()));
            byte[] prk = mac.doFinal(ikm.bytes());
            mac.init(new SecretKeySpec(prk, alg.jdkMac()));
            byte[] out = new byte[length];
            byte[] t = new byte[0];
            int pos = 0;
            for (int i = 1; pos < length; i++) {
                mac.update(t);
                mac.update(info);
                mac.update((byte) i);
                t = mac.doFinal();
                int n = Math.min(t.length, length - pos);
                System.arraycopy(t, 0, out, pos, n);
                pos += n;
            }
            Arrays.fill(prk, (byte) 0);
            Arrays.fill(t, (byte) 0);
            return SecretBytes.wrap(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK HMAC unavailable", e);
        }
    }

    @Override
    public byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public byte[] sign(SignatureAlgorithm alg, PrivateKey key, byte[] message) {
        return BcCurves.sign(alg, key, message);
    }

    @Override
    public boolean verify(SignatureAlgorithm alg, byte[] publicKey, byte[] message, byte[] signature) {
        return BcCurves.verify(alg, publicKey, message, signature);
    }

    @Override
    public SecretBytes agree(KeyAgreementAlgorithm alg, PrivateKey own, byte[] peerPublicKey) {
        return BcCurves.agree(alg, own, peerPublicKey);
    }

    @Override
    public PrivateKey privateKey(PrivateKey.Type type, SecretBytes secret) {
        return BcCurves.privateKey(type, secret);
    }

    @Override
    public PrivateKey generate(PrivateKey.Type type) {
        return BcCurves.generate(type);
    }

    @Override
    public byte[] ed25519PublicToX25519(byte[] edPublic) {
        return BcCurves.ed25519PublicToX25519(edPublic);
    }

    @Override
    public PrivateKey ed25519PrivateToX25519(PrivateKey edPrivate) {
        return BcCurves.ed25519PrivateToX25519(edPrivate);
    }

    /**
     * GCM and ChaCha20-Poly1305 from the JDK. A fresh Cipher per call: the JDK refuses to
     * re-initialise one instance with a nonce it has already used for encryption.
     */
    private static final class JdkAead implements AeadKey {
        private final AeadAlgorithm alg;
        private final String transformation;
        private final SecretKeySpec key;

        JdkAead(AeadAlgorithm alg, SecretBytes key, String transformation, String keyAlg) {
            this.alg = alg;
            this.transformation = transformation;
            this.key = new SecretKeySpec(key.bytes(), keyAlg);
        }

        @Override
        public AeadAlgorithm algorithm() {
            return alg;
        }

        private Cipher cipher(int mode, byte[] nonce) throws GeneralSecurityException {
            if (nonce.length != alg.nonceLength()) {
                throw new IllegalArgumentException("nonce must be " + alg.nonceLength() + " bytes");
            }
            Cipher c = Cipher.getInstance(transformation);
            if (alg.family() == AeadAlgorithm.Family.GCM) {
                c.init(mode, key, new GCMParameterSpec(alg.tagLength() * 8, nonce));
            } else {
                c.init(mode, key, new IvParameterSpec(nonce));
            }
            return c;
        }

        @Override
        public byte[] seal(byte[] nonce, byte[] aad, byte[] in, int off, int len) {
            try {
                Cipher c = cipher(Cipher.ENCRYPT_MODE, nonce);
                if (aad != null && aad.length > 0) {
                    c.updateAAD(aad);
                }
                return c.doFinal(in, off, len);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(alg + " encryption failed", e);
            }
        }

        @Override
        public byte[] open(byte[] nonce, byte[] aad, byte[] in, int off, int len) throws AeadFailure {
            if (len < alg.tagLength()) {
                throw new AeadFailure();
            }
            try {
                Cipher c = cipher(Cipher.DECRYPT_MODE, nonce);
                if (aad != null && aad.length > 0) {
                    c.updateAAD(aad);
                }
                return c.doFinal(in, off, len);
            } catch (javax.crypto.AEADBadTagException e) {
                throw new AeadFailure();
            } catch (GeneralSecurityException e) {
                throw new AeadFailure();
            }
        }
    }
}
