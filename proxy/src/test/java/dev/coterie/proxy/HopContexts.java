package dev.coterie.proxy;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.OscoreContext;
import java.nio.file.Path;

/** OSCORE contexts for the proxy tests' hops, each with its state in {@code state/name}. */
final class HopContexts {
    private HopContexts() {
    }

    /** A context named {@code name}; {@code salt} may be null (no Master Salt). */
    static OscoreContext open(Path state, String name, byte[] secret, byte[] salt, byte[] sender, byte[] recipient)
            throws Exception {
        OscoreContext.Builder b = OscoreContext.builder().name(name).masterSecret(SecretBytes.copyOf(secret))
                .senderId(sender).recipientId(recipient).stateStore(SecurityStateStore.open(state.resolve(name), 20));
        return (salt == null ? b : b.masterSalt(salt)).build();
    }
}
