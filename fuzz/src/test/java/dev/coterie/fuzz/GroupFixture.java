package dev.coterie.fuzz;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.eclipse.californium.core.coap.Request;

/**
 * One Group OSCORE group with group mode, pairwise mode and a Deterministic Client (the default
 * algorithms: AES-CCM-16-64-128, EdDSA, X25519): client c1, server 52, a third member a2 known by
 * its credential only, Deterministic Client dc (SHA-256). Every private key is derived from a
 * fixed name, so the seed generator and the fuzz target build the same group. The client's views
 * are {@link #VIEWS}: group mode, pairwise mode to 52, deterministic requests to the group. Each
 * view protected one request at construction; the response seeds answer those. Recipient
 * Contexts are created up front, so a rejected message cannot be the one that creates one, and
 * key usage limits are off (see {@link OscoreFixture}).
 */
final class GroupFixture {
    static final String[] VIEWS = {"group", "pairwise", "deterministic"};
    static final byte[] GID = Hex.decode("b1f05c");
    static final byte[] CLIENT = Hex.decode("c1");
    static final byte[] SERVER = Hex.decode("52");
    static final byte[] OTHER = Hex.decode("a2");
    static final byte[] DET = Hex.decode("dc");
    static final CryptoProvider PROVIDER = CryptoProviders.defaultProvider();

    final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    final GroupContext client;
    final GroupContext server;
    final GroupContextDb serverDb;
    final RequestProtector[] views;
    final Request[] setupRequests = new Request[VIEWS.length];
    final RequestIdentifiers[] setupIds = new RequestIdentifiers[VIEWS.length];
    final Messages.State state = new Messages.State();

    GroupFixture() throws Exception {
        client = member(CLIENT, SecurityStateStore.inMemoryStartingAt(OscoreFixture.CLIENT_START), "fuzz-client");
        server = member(SERVER, SecurityStateStore.inMemory(), "fuzz-server");
        serverDb = new GroupContextDb().add(server);
        views = views(client);
        for (int i = 0; i < VIEWS.length; i++) {
            Request r = Messages.get("setup", 0x100 + i);
            if (i != 1) {
                r.setObserve();
            }
            ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(r, views[i]);
            setupRequests[i] = p.wire();
            setupIds[i] = p.identifiers();
        }
        for (byte[] kid : new byte[][] {CLIENT, OTHER}) {
            state.window("server recipient " + Hex.encode(kid), server.recipient(kid).replayWindow());
        }
        for (byte[] kid : new byte[][] {SERVER, OTHER}) {
            state.window("client recipient " + Hex.encode(kid), client.recipient(kid).replayWindow());
        }
        state.sequence("server", server.senderSequence()).sequence("client", client.senderSequence());
    }

    static RequestProtector[] views(GroupContext c) {
        return new RequestProtector[] {c.groupMode(), c.pairwise(SERVER),
            c.deterministic(null, null, ExtensionOptionRegistry.defaults(), true, 0)};
    }

    /** The client c1 with Partial IVs from 0: the seed generator's, so request seeds never collide with the target's own. */
    static GroupContext seedClient() throws Exception {
        return member(CLIENT, SecurityStateStore.inMemory(), "seed-client");
    }

    static PrivateKey key(byte[] id) throws Exception {
        byte[] seed = MessageDigest.getInstance("SHA-256").digest(("coterie fuzz member " + Hex.encode(id))
                .getBytes(StandardCharsets.US_ASCII));
        return PROVIDER.privateKey(PrivateKey.Type.ED25519, SecretBytes.copyOf(seed));
    }

    static Credential credential(byte[] id) throws Exception {
        return Credential.ccs("member-" + Hex.encode(id), key(id));
    }

    private static GroupContext member(byte[] id, SecurityStateStore store, String name) throws Exception {
        GroupContext.Builder b = GroupContext.builder().provider(PROVIDER).name(name).algorithms(GroupAlgorithms.defaults())
                .gid(GID).masterSecret(SecretBytes.copyOf(OscoreFixture.SECRET)).masterSalt(OscoreFixture.SALT)
                .groupManagerCredential(credential(Hex.decode("00")))
                .sender(id, key(id), credential(id)).deterministicClient(DET, HashAlgorithm.SHA_256)
                .keyUsageLimits(false).stateStore(store);
        for (byte[] other : new byte[][] {CLIENT, SERVER, OTHER}) {
            if (!java.util.Arrays.equals(other, id)) {
                b.member(other, credential(other));
            }
        }
        return b.build();
    }
}
