package dev.coterie.bench;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.SecretBytes;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The crypto provider's primitives, default (JDK AES and HMAC) beside Bouncy Castle only. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CryptoProviderBenchmark {
    @Param({"default", "bc"})
    public String provider;

    private CryptoProvider p;
    private AeadKey key;
    private final byte[] nonce = new byte[13];
    private final byte[] aad = new byte[20];
    private final byte[] pt64 = new byte[64];
    private final byte[] pt1024 = new byte[1024];
    private byte[] ct64;
    private byte[] ct1024;
    private final SecretBytes ikm = SecretBytes.copyOf(new byte[16]);
    private final byte[] salt = new byte[8];
    private final byte[] info = new byte[10];

    @Setup(Level.Trial)
    public void setUp() {
        p = CryptoProviders.byName(provider);
        key = p.aeadKey(AeadAlgorithm.AES_CCM_16_64_128, SecretBytes.copyOf(new byte[16]));
        ct64 = key.seal(nonce, aad, pt64);
        ct1024 = key.seal(nonce, aad, pt1024);
    }

    /** Encrypt and decrypt 64 bytes with AES-CCM-16-64-128. */
    @Benchmark
    public byte[] ccm64() throws Exception {
        key.seal(nonce, aad, pt64);
        return key.open(nonce, aad, ct64);
    }

    /** Encrypt and decrypt 1024 bytes with AES-CCM-16-64-128. */
    @Benchmark
    public byte[] ccm1024() throws Exception {
        key.seal(nonce, aad, pt1024);
        return key.open(nonce, aad, ct1024);
    }

    /** One HKDF-SHA-256 derivation of a 16-byte key. */
    @Benchmark
    public SecretBytes hkdf() {
        return p.hkdf(HkdfAlgorithm.HKDF_SHA_256, salt, ikm, info, 16);
    }
}
