package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadFailure;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SignatureAlgorithm;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The default provider, recording the order of signature checks and AEAD decryptions (GRP-14). */
final class RecordingProvider implements CryptoProvider {
    private final CryptoProvider d = CryptoProviders.defaultProvider();
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override public String name() { return "recording"; }

    @Override
    public AeadKey aeadKey(AeadAlgorithm alg, SecretBytes key) {
        AeadKey k = d.aeadKey(alg, key);
        return new AeadKey() {
            @Override public AeadAlgorithm algorithm() { return k.algorithm(); }
            @Override public byte[] seal(byte[] nonce, byte[] aad, byte[] pt, int off, int len) { return k.seal(nonce, aad, pt, off, len); }
            @Override public byte[] open(byte[] nonce, byte[] aad, byte[] ct, int off, int len) throws AeadFailure {
                events.add("decrypt");
                return k.open(nonce, aad, ct, off, len);
            }
        };
    }

    @Override public SecretBytes hkdf(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, int length) {
        return d.hkdf(alg, salt, ikm, info, length);
    }
    @Override public byte[] sha256(byte[] data) { return d.sha256(data); }
    @Override public byte[] sign(SignatureAlgorithm alg, PrivateKey key, byte[] message) { return d.sign(alg, key, message); }

    @Override
    public boolean verify(SignatureAlgorithm alg, byte[] publicKey, byte[] message, byte[] signature) {
        boolean ok = d.verify(alg, publicKey, message, signature);
        events.add(ok ? "verify ok" : "verify failed");
        return ok;
    }

    @Override public SecretBytes agree(KeyAgreementAlgorithm alg, PrivateKey own, byte[] peer) { return d.agree(alg, own, peer); }
    @Override public PrivateKey privateKey(PrivateKey.Type type, SecretBytes secret) { return d.privateKey(type, secret); }
    @Override public PrivateKey generate(PrivateKey.Type type) { return d.generate(type); }
    @Override public byte[] ed25519PublicToX25519(byte[] edPublic) { return d.ed25519PublicToX25519(edPublic); }
    @Override public PrivateKey ed25519PrivateToX25519(PrivateKey edPrivate) { return d.ed25519PrivateToX25519(edPrivate); }
}
