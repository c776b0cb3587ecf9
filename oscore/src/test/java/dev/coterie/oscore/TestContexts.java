package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;

/** The RFC 8613 Appendix C.1 contexts (client Sender ID '', server Sender ID 01), in memory. */
final class TestContexts {
    private TestContexts() {
    }

    static OscoreContext client() throws Exception {
        return build(new byte[0], new byte[] {1}, SecurityStateStore.inMemory());
    }

    static OscoreContext server() throws Exception {
        return build(new byte[] {1}, new byte[0], SecurityStateStore.inMemory());
    }

    static OscoreContext build(byte[] sender, byte[] recipient, SecurityStateStore store) throws Exception {
        return builder(sender, recipient, store).build();
    }

    static OscoreContext.Builder builder(byte[] sender, byte[] recipient, SecurityStateStore store) {
        return OscoreContext.builder().masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"))
                .masterSalt(Hex.decode("9e7ca92223786340")).senderId(sender).recipientId(recipient)
                .stateStore(store);
    }
}
