package dev.coterie.keystore;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-CCM (RFC 3610) built on the JDK's AES, which uses the AES-NI instructions. The CBC-MAC
 * runs as one AES/CBC call over the formatted blocks and the CTR keystream as one AES/ECB call
 * over all counter blocks, so one message costs two cipher invocations. The two Cipher objects
 * are initialised once per key; calls are serialised on the key. A one-shot key (a deterministic
 * request's, used for one message by each side) has no Cipher objects of its own: it
 * initialises the calling thread's pair with its key at each call, which saves the JCA lookup
 * that dominated its cost.
 */
final class JdkCcm implements AeadKey {
    private final AeadAlgorithm alg;
    private final Cipher cbc;
    private final Cipher ecb;
    private final SecretKeySpec oneShotKey;
    private final int tagLen;
    private final int nonceLen;
    private final int lenFieldSize;

    private static final IvParameterSpec ZERO_IV = new IvParameterSpec(new byte[16]);
    /** The calling thread's uninitialised-by-key CBC and ECB ciphers, for one-shot keys. */
    private static final ThreadLocal<Cipher[]> THREAD_CIPHERS = ThreadLocal.withInitial(() -> {
        try {
            return new Cipher[] {Cipher.getInstance("AES/CBC/NoPadding"), Cipher.getInstance("AES/ECB/NoPadding")};
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
    });

    JdkCcm(AeadAlgorithm alg, SecretBytes key) {
        this(alg, key, false);
    }

    private JdkCcm(AeadAlgorithm alg, SecretBytes key, boolean oneShot) {
        this.alg = alg;
        this.tagLen = alg.tagLength();
        this.nonceLen = alg.nonceLength();
        this.lenFieldSize = 15 - nonceLen;
        SecretKeySpec spec = new SecretKeySpec(key.bytes(), "AES");
        if (oneShot) {
            cbc = null;
            ecb = null;
            oneShotKey = spec;
            return;
        }
        oneShotKey = null;
        try {
            cbc = Cipher.getInstance("AES/CBC/NoPadding");
            cbc.init(Cipher.ENCRYPT_MODE, spec, ZERO_IV);
            ecb = Cipher.getInstance("AES/ECB/NoPadding");
            ecb.init(Cipher.ENCRYPT_MODE, spec);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
    }

    /** A key for one or two messages: no Cipher objects of its own (see the class comment). */
    static JdkCcm oneShot(AeadAlgorithm alg, SecretBytes key) {
        return new JdkCcm(alg, key, true);
    }

    /** The CBC and ECB ciphers to use now, keyed with this key. */
    private Cipher[] ciphers() {
        if (oneShotKey == null) {
            return new Cipher[] {cbc, ecb};
        }
        Cipher[] c = THREAD_CIPHERS.get();
        try {
            c[0].init(Cipher.ENCRYPT_MODE, oneShotKey, ZERO_IV);
            c[1].init(Cipher.ENCRYPT_MODE, oneShotKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
        return c;
    }

    @Override
    public AeadAlgorithm algorithm() {
        return alg;
    }

    @Override
    public byte[] seal(byte[] nonce, byte[] aad, byte[] in, int off, int len) {
        checkNonce(nonce);
        byte[] out = new byte[len + tagLen];
        synchronized (this) {
            Cipher[] c = ciphers();
            byte[] mac = cbcMac(c[0], nonce, aad, in, off, len);
            byte[] ks = keystream(c[1], nonce, len);
            for (int i = 0; i < tagLen; i++) {
                out[len + i] = (byte) (mac[i] ^ ks[i]);
            }
            for (int i = 0; i < len; i++) {
                out[i] = (byte) (in[off + i] ^ ks[16 + i]);
            }
        }
        return out;
    }

    @Override
    public byte[] open(byte[] nonce, byte[] aad, byte[] in, int off, int len) throws AeadFailure {
        checkNonce(nonce);
        if (len < tagLen) {
            throw new AeadFailure();
        }
        int ptLen = len - tagLen;
        byte[] pt = new byte[ptLen];
        byte[] tag = new byte[tagLen];
        synchronized (this) {
            Cipher[] c = ciphers();
            byte[] ks = keystream(c[1], nonce, ptLen);
            for (int i = 0; i < ptLen; i++) {
                pt[i] = (byte) (in[off + i] ^ ks[16 + i]);
            }
            byte[] mac = cbcMac(c[0], nonce, aad, pt, 0, ptLen);
            for (int i = 0; i < tagLen; i++) {
                tag[i] = (byte) (mac[i] ^ ks[i]);
            }
        }
        byte[] received = new byte[tagLen];
        System.arraycopy(in, off + ptLen, received, 0, tagLen);
        if (!MessageDigest.isEqual(tag, received)) {
            java.util.Arrays.fill(pt, (byte) 0);
            throw new AeadFailure();
        }
        return pt;
    }

    private void checkNonce(byte[] nonce) {
        if (nonce.length != nonceLen) {
            throw new IllegalArgumentException("nonce must be " + nonceLen + " bytes");
        }
    }

    /** Counter blocks A_0..A_n encrypted: A_0's output masks the tag, the rest the payload. */
    private byte[] keystream(Cipher ecb, byte[] nonce, int len) {
        int blocks = 1 + (len + 15) / 16;
        byte[] ctr = new byte[blocks * 16];
        for (int b = 0; b < blocks; b++) {
            int p = b * 16;
            ctr[p] = (byte) (lenFieldSize - 1);
            System.arraycopy(nonce, 0, ctr, p + 1, nonceLen);
            putCounter(ctr, p + 16, b);
        }
        try {
            return ecb.doFinal(ctr);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void putCounter(byte[] buf, int end, long value) {
        for (int i = 1; i <= lenFieldSize; i++) {
            buf[end - i] = (byte) value;
            value >>>= 8;
        }
    }

    private byte[] cbcMac(Cipher cbc, byte[] nonce, byte[] aad, byte[] in, int off, int len) {
        int aadLen = aad == null ? 0 : aad.length;
        int aadHeader = aadLen == 0 ? 0 : (aadLen < 0xff00 ? 2 : 6);
        int aadBlockBytes = aadLen == 0 ? 0 : roundUp(aadHeader + aadLen);
        int total = 16 + aadBlockBytes + roundUp(len);
        byte[] buf = new byte[total];
        // B_0: flags, nonce, message length
        buf[0] = (byte) ((aadLen > 0 ? 0x40 : 0) | (((tagLen - 2) / 2) << 3) | (lenFieldSize - 1));
        System.arraycopy(nonce, 0, buf, 1, nonceLen);
        putCounter(buf, 16, len);
        int p = 16;
        if (aadLen > 0) {
            if (aadHeader == 2) {
                buf[p] = (byte) (aadLen >>> 8);
                buf[p + 1] = (byte) aadLen;
            } else {
                buf[p] = (byte) 0xff;
                buf[p + 1] = (byte) 0xfe;
                buf[p + 2] = (byte) (aadLen >>> 24);
                buf[p + 3] = (byte) (aadLen >>> 16);
                buf[p + 4] = (byte) (aadLen >>> 8);
                buf[p + 5] = (byte) aadLen;
            }
            System.arraycopy(aad, 0, buf, p + aadHeader, aadLen);
            p += aadBlockBytes;
        }
        System.arraycopy(in, off, buf, p, len);
        try {
            byte[] chain = cbc.doFinal(buf);
            byte[] mac = new byte[16];
            System.arraycopy(chain, chain.length - 16, mac, 0, 16);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int roundUp(int n) {
        return (n + 15) & ~15;
    }
}
