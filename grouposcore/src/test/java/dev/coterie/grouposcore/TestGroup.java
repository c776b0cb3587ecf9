package dev.coterie.grouposcore;

import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/** One client (Sender ID c1) and three servers (a1, a2, a3) in one group, each with its own view. */
final class TestGroup {
    static final CryptoProvider P = CryptoProviders.defaultProvider();
    final GroupAlgorithms algs;
    final byte[] gid;
    final List<PrivateKey> keys = new ArrayList<>();
    final List<Credential> creds = new ArrayList<>();
    final List<byte[]> ids = List.of(new byte[] {(byte) 0xc1}, new byte[] {(byte) 0xa1}, new byte[] {(byte) 0xa2},
            new byte[] {(byte) 0xa3});
    /** Sender IDs that {@link #member} uses instead of {@link #ids} (a rekey that reassigns them). */
    List<byte[]> idsOverride;
    /** A Gid that {@link #member} uses instead of {@link #gid}. */
    byte[] gidOverride;
    /** A failed-decryption limit lower than the algorithms' for the members {@link #member} builds, or 0. */
    long integrityLimit;
    /** The group's Deterministic Client, if it has one (SHA-256). */
    byte[] detSenderId;
    final Credential gm;
    final SecretBytes secret;
    GroupContext client;
    final List<GroupContext> servers = new ArrayList<>();

    final CryptoProvider provider;
    /** The group's name (its epochs share it). */
    final String name;

    TestGroup(GroupAlgorithms algs, byte[] gid, SecretBytes secret) throws Exception {
        this(algs, gid, secret, P);
    }

    TestGroup(GroupAlgorithms algs, byte[] gid, SecretBytes secret, CryptoProvider provider) throws Exception {
        this(algs, gid, secret, provider, "test-group");
    }

    TestGroup(GroupAlgorithms algs, byte[] gid, SecretBytes secret, CryptoProvider provider, String name) throws Exception {
        this.provider = provider;
        this.name = name;
        this.algs = algs;
        this.gid = gid;
        this.secret = secret;
        PrivateKey.Type type = algs.signature() == SignatureAlgorithm.ES256
                || (algs.signature() == null && algs.pairwiseKeyAgreement() == dev.coterie.keystore.KeyAgreementAlgorithm.P256)
                ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        for (byte[] id : ids) {
            PrivateKey k = P.generate(type);
            keys.add(k);
            creds.add(Credential.ccs("member-" + dev.coterie.keystore.Hex.encode(id), k));
        }
        gm = Credential.ccs("group-manager", P.generate(type));
        client = member(0, SecurityStateStore.inMemory());
        for (int i = 1; i < 4; i++) {
            servers.add(member(i, SecurityStateStore.inMemory()));
        }
    }

    static TestGroup of(GroupAlgorithms algs) throws Exception {
        return new TestGroup(algs, new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5c},
                SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"));
    }

    GroupContext member(int i, SecurityStateStore store) throws Exception {
        GroupContext.Builder b = GroupContext.builder().provider(provider).name(name).algorithms(algs)
                .gid(gidOverride != null ? gidOverride : gid)
                .masterSecret(secret)
                .masterSalt(new byte[] {(byte) 0x9e, 0x7c}).groupManagerCredential(gm)
                .sender(idsNow().get(i), keys.get(i), creds.get(i)).stateStore(store);
        if (integrityLimit > 0) {
            b.integrityLimit(integrityLimit);
        }
        if (detSenderId != null) {
            b.deterministicClient(detSenderId, dev.coterie.keystore.HashAlgorithm.SHA_256);
        }
        for (int j = 0; j < ids.size(); j++) {
            if (j != i) {
                b.member(idsNow().get(j), creds.get(j));
            }
        }
        return b.build();
    }

    List<byte[]> idsNow() {
        return idsOverride != null ? idsOverride : ids;
    }

    /** A server's database, created once per server so that epochs installed later are seen by its responders. */
    private final java.util.Map<Integer, GroupContextDb> dbs = new java.util.HashMap<>();

    GroupContextDb db(int server) {
        return dbs.computeIfAbsent(server, i -> new GroupContextDb().add(servers.get(i)));
    }

    static Request get(String path) {
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(7);
        r.setToken(new byte[] {1, 2, 3});
        r.getOptions().setUriPath(path);
        return r;
    }

    static Response content(String payload) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.NON);
        r.setMID(8);
        r.setToken(new byte[] {1, 2, 3});
        r.setPayload(payload);
        return r;
    }

    static Request wire(Request r) {
        return (Request) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }

    static Response wire(Response r) {
        return (Response) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }
}
