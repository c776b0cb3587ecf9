package dev.coterie.tests;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.OscoreContext;
import java.nio.file.Path;

/** The two RFC 8613 Appendix C contexts the interop tests use: C.1 (no ID Context) and C.3 (ID Context). */
enum Rfc8613Contexts {
    C1(null),
    C3(Hex.decode("37cbf3210017a2d3"));

    static final byte[] MASTER_SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    static final byte[] MASTER_SALT = Hex.decode("9e7ca92223786340");
    static final byte[] CLIENT_ID = new byte[0];
    static final byte[] SERVER_ID = {1};

    final byte[] idContext;

    Rfc8613Contexts(byte[] idContext) {
        this.idContext = idContext;
    }

    OscoreContext client(Path stateDir) throws Exception {
        return build(CLIENT_ID, SERVER_ID, stateDir);
    }

    OscoreContext server(Path stateDir) throws Exception {
        return build(SERVER_ID, CLIENT_ID, stateDir);
    }

    OscoreContext build(byte[] sender, byte[] recipient, Path stateDir) throws Exception {
        return buildWithBlock(sender, recipient, stateDir, 50);
    }

    OscoreContext buildWithBlock(byte[] sender, byte[] recipient, Path stateDir, int block) throws Exception {
        return OscoreContext.builder().name(name().toLowerCase() + "-" + (sender.length == 0 ? "client" : "server"))
                .masterSecret(SecretBytes.copyOf(MASTER_SECRET)).masterSalt(MASTER_SALT).idContext(idContext)
                .senderId(sender).recipientId(recipient)
                .stateStore(stateDir == null ? SecurityStateStore.inMemory() : SecurityStateStore.open(stateDir, block))
                .build();
    }
}
