package dev.coterie.fuzz;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import org.eclipse.californium.core.coap.Request;

/**
 * Two OSCORE client/server pairs with the RFC 8613 Appendix C.1 secret and salt: A without an ID
 * Context, B with C.3's, both servers in one {@link InMemoryContextDb} (two contexts with the
 * same Recipient ID: a request without kid context finds A's). Built the same way every time, so
 * the seed generator and the fuzz target agree on every key, and on the identifiers of the one
 * request each client protects at construction (A's registers an observation), to which the
 * response seeds answer. The request seeds come from {@link #seedClient}. Key usage limits are off: the fuzzer fails more decryptions in a minute
 * than the integrity limit allows, and the target must keep reaching past the AEAD.
 */
final class OscoreFixture {
    static final byte[] SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    static final byte[] SALT = Hex.decode("9e7ca92223786340");
    static final byte[] ID_CONTEXT = Hex.decode("37cbf3210017a2d3");

    final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    final OscoreContext[] clients = new OscoreContext[2];
    final OscoreContext[] servers = new OscoreContext[2];
    final InMemoryContextDb serverDb = new InMemoryContextDb();
    /** The request each client protected at construction, as it went on the wire. */
    final Request[] setupRequests = new Request[2];
    /** Its identifiers on the client side: what a response seed is verified with. */
    final RequestIdentifiers[] setupIds = new RequestIdentifiers[2];
    final Messages.State state = new Messages.State();
    /** The first Partial IV of the target's own clients, far above the request seeds' (from 0). */
    static final long CLIENT_START = 1 << 20;

    OscoreFixture() throws Exception {
        for (int i = 0; i < 2; i++) {
            byte[] idContext = i == 0 ? null : ID_CONTEXT;
            clients[i] = context(new byte[0], new byte[] {1}, idContext, "client-" + "AB".charAt(i),
                    SecurityStateStore.inMemoryStartingAt(CLIENT_START));
            servers[i] = context(new byte[] {1}, new byte[0], idContext, "server-" + "AB".charAt(i), SecurityStateStore.inMemory());
            serverDb.add(servers[i]);
            Request r = Messages.get("setup", 0x100 + i);
            if (i == 0) {
                r.setObserve();
            }
            ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(r, clients[i].protector());
            setupRequests[i] = p.wire();
            setupIds[i] = p.identifiers();
            state.window(servers[i].name(), servers[i].replayWindow()).sequence(servers[i].name(), servers[i].senderSequence())
                    .window(clients[i].name(), clients[i].replayWindow()).sequence(clients[i].name(), clients[i].senderSequence());
        }
    }

    /**
     * A client with pair {@code pair}'s keys whose Partial IVs start at 0: the seed generator's,
     * so that the request seeds never collide with what the target's own clients send.
     */
    static OscoreContext seedClient(int pair) throws Exception {
        return context(new byte[0], new byte[] {1}, pair == 0 ? null : ID_CONTEXT, "seed-client-" + "AB".charAt(pair),
                SecurityStateStore.inMemory());
    }

    private static OscoreContext context(byte[] sender, byte[] recipient, byte[] idContext, String name,
                                         SecurityStateStore store) throws Exception {
        return OscoreContext.builder().masterSecret(SecretBytes.copyOf(SECRET)).masterSalt(SALT).idContext(idContext)
                .senderId(sender).recipientId(recipient).name(name).keyUsageLimits(false).stateStore(store).build();
    }
}
