package dev.coterie.keystore;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.modes.AEADCipher;
import org.bouncycastle.crypto.modes.CCMBlockCipher;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/** Bouncy Castle's lightweight classes for every primitive: the cross-check for the default. */
final class BouncyCastleCryptoProvider implements CryptoProvider {

    @Override
    public String name() {
        return "bc";
    }

    @Override
    public AeadKey aeadKey(AeadAlgorithm alg, SecretBytes key) {
        if (key.length() != alg.keyLength()) {
            throw new IllegalArgumentException(alg + " needs a " + alg.keyLength() + "-byte key");
        }
        return new BcAead(alg, key);
    }

    @Override
    public SecretBytes hkdf(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, int length) {
        HKDFBytesGenerator g = new HKDFBytesGenerator(
                alg == HkdfAlgorithm.HKDF_SHA_256 ? new SHA256Digest() : new SHA512Digest());
        g.init(new HKDFParameters(ikm.bytes(), salt == null || salt.length == 0 ? null : salt, info));
        byte[] out = new byte[length];
        g.generateBytes(out, 0, length);
        return SecretBytes.wrap(out);
    }

    @Override
    public byte[] sha256(byte[] data) {
        SHA256Digest d = new SHA256Digest();
        d.update(data, 0, data.length);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        return out;
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

    private static final class BcAead implements AeadKey {
        private final AeadAlgorithm alg;
        private final KeyParameter key;

        BcAead(AeadAlgorithm alg, SecretBytes key) {
            this.alg = alg;
            this.key = new KeyParameter(key.bytes());
        }

        @Override
        public AeadAlgorithm algorithm() {
            return alg;
        }

        private AEADCipher cipher(boolean encrypt, byte[] nonce, byte[] aad) {
            if (nonce.length != alg.nonceLength()) {
                throw new IllegalArgumentException("nonce must be " + alg.nonceLength() + " bytes");
            }
            AEADCipher c;
            switch (alg.family()) {
                case CCM: c = CCMBlockCipher.newInstance(AESEngine.newInstance()); break;
                case GCM: c = GCMBlockCipher.newInstance(AESEngine.newInstance()); break;
                default: c = new ChaCha20Poly1305(); break;
            }
            c.init(encrypt, new AEADParameters(key, alg.tagLength() * 8, nonce, aad));
            return c;
        }

        @Override
        public byte[] seal(byte[] nonce, byte[] aad, byte[] in, int off, int len) {
            AEADCipher c = cipher(true, nonce, aad);
            byte[] out = new byte[c.getOutputSize(len)];
            int n = c.processBytes(in, off, len, out, 0);
            try {
                c.doFinal(out, n);
            } catch (InvalidCipherTextException e) {
                throw new IllegalStateException(e);
            }
            return out;
        }

        @Override
        public byte[] open(byte[] nonce, byte[] aad, byte[] in, int off, int len) throws AeadFailure {
            if (len < alg.tagLength()) {
                throw new AeadFailure();
            }
            AEADCipher c = cipher(false, nonce, aad);
            byte[] out = new byte[c.getOutputSize(len)];
            int n = c.processBytes(in, off, len, out, 0);
            try {
                c.doFinal(out, n);
            } catch (InvalidCipherTextException | IllegalStateException e) {
                throw new AeadFailure();
            }
            return out;
        }
    }
}
