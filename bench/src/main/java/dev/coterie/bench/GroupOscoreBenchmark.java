package dev.coterie.bench;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestProtector;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Group OSCORE beside its bounds, in one run:
 * <ul>
 *   <li>a group-mode request (protect, serialize, parse, verify: one signature and one
 *       verification) beside the provider's raw sign + verify of a message of the same size
 *       as the Countersign_structure;</li>
 *   <li>a pairwise-mode exchange (request and response) beside a plain OSCORE exchange with the
 *       same payloads and message model;</li>
 *   <li>a deterministic request and its group-mode response (one signature and one verification,
 *       plus the request hash and a per-request key) beside the same raw sign + verify.</li>
 * </ul>
 * Key usage limits are off: a benchmark protects more than 2^20 messages with one key.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GroupOscoreBenchmark {
    @Param({"EdDSA", "ES256"})
    public String signature;

    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final UdpDataParser parser = new UdpDataParser();
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    private RequestProtector groupMode;
    private RequestProtector pairwise;
    private RequestProtector deterministic;
    private CryptoProvider provider;
    private GroupContext client;
    private GroupContextDb serverDb;
    private GroupContext server;
    private byte[] serverId;
    private PrivateKey clientKey;
    private SignatureAlgorithm sigAlg;
    private byte[] toBeSigned;
    private byte[] signature0;
    private OscoreContext oscoreClient;
    private InMemoryContextDb oscoreServer;
    private int mid;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        provider = CryptoProviders.defaultProvider();
        sigAlg = signature.equals("ES256") ? SignatureAlgorithm.ES256 : SignatureAlgorithm.EDDSA_ED25519;
        PrivateKey.Type type = sigAlg == SignatureAlgorithm.ES256 ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, AeadAlgorithm.AES_CCM_16_64_128, sigAlg,
                sigAlg == SignatureAlgorithm.ES256 ? KeyAgreementAlgorithm.P256 : KeyAgreementAlgorithm.X25519,
                HkdfAlgorithm.HKDF_SHA_256);
        clientKey = provider.generate(type);
        PrivateKey serverKey = provider.generate(type);
        Credential cc = Credential.ccs("client", clientKey);
        Credential sc = Credential.ccs("server", serverKey);
        Credential gm = Credential.ccs("gm", provider.generate(type));
        byte[] gid = {(byte) 0xb1, 0x00, 0x01};
        byte[] clientId = {(byte) 0xc1};
        serverId = new byte[] {(byte) 0xa1};
        SecretBytes secret = SecretBytes.copyOf(OscoreExchangeBenchmark.SECRET);
        byte[] detId = {(byte) 0xdc};
        client = GroupContext.builder().algorithms(algs).gid(gid).masterSecret(secret).masterSalt(OscoreExchangeBenchmark.SALT)
                .groupManagerCredential(gm).sender(clientId, clientKey, cc).member(serverId, sc)
                .deterministicClient(detId, HashAlgorithm.SHA_256).keyUsageLimits(false)
                .stateStore(SecurityStateStore.inMemory()).build();
        server = GroupContext.builder().algorithms(algs).gid(gid).masterSecret(secret).masterSalt(OscoreExchangeBenchmark.SALT)
                .groupManagerCredential(gm).sender(serverId, serverKey, sc).member(clientId, cc)
                .deterministicClient(detId, HashAlgorithm.SHA_256).keyUsageLimits(false)
                .replayWindowSize(64).stateStore(SecurityStateStore.inMemory()).build();
        serverDb = new GroupContextDb().add(server);
        groupMode = client.groupMode();
        pairwise = client.pairwise(serverId);
        deterministic = client.deterministic(serverId, null, ExtensionOptionRegistry.defaults(), true, 0);
        // the raw bound: a message as long as a group request's Countersign_structure
        Request sample = pipeline.protectRequest(request(), groupMode).wire();
        toBeSigned = new byte[sample.getPayloadSize() + cc.encoded().length + gm.encoded().length + 60];
        signature0 = provider.sign(sigAlg, clientKey, toBeSigned);
        oscoreClient = OscoreExchangeBenchmark.context(new byte[0], new byte[] {1});
        oscoreServer = new InMemoryContextDb().add(OscoreExchangeBenchmark.context(new byte[] {1}, new byte[0]));
    }

    private Request request() {
        Request r = new Request(Code.POST, Type.NON);
        r.setMID(mid = (mid + 1) & 0xffff);
        r.setToken(new byte[] {(byte) mid, (byte) (mid >> 8), 7});
        r.getOptions().setUriPath("light");
        r.setPayload(OscoreExchangeBenchmark.PAYLOAD);
        return r;
    }

    private static Response response(Request to) {
        Response r = new Response(ResponseCode.CHANGED);
        r.setType(Type.NON);
        r.setMID(to.getMID());
        r.setToken(to.getToken());
        r.setPayload(OscoreExchangeBenchmark.PAYLOAD);
        return r;
    }

    private Request get() {
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(mid = (mid + 1) & 0xffff);
        r.setToken(new byte[] {(byte) mid, (byte) (mid >> 8), 7});
        r.getOptions().setUriPath("temperature");
        return r;
    }

    private static Response content(Request to) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.NON);
        r.setMID(to.getMID());
        r.setToken(to.getToken());
        r.getOptions().setMaxAge(30);
        r.setPayload(OscoreExchangeBenchmark.PAYLOAD);
        return r;
    }

    /** A group-mode request: protect (encrypt, sign, encrypt signature), serialize, parse, verify, decrypt. */
    @Benchmark
    public Request groupModeRequest() throws Exception {
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(request(), groupMode);
        return pipeline.unprotectRequest((Request) parser.parseMessage(serializer.getByteArray(p.wire())), serverDb).plain();
    }

    /**
     * A deterministic request and its group-mode response: the request (hash, derived key,
     * encrypt), the server's check (derive, decrypt, hash again), the response (encrypt, sign),
     * the client's verification. One signature and one verification, as the bound.
     */
    @Benchmark
    public Response deterministicExchange() throws Exception {
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(get(), deterministic);
        ProtectionPipeline.Unprotected<Request> v = pipeline.unprotectRequest(
                (Request) parser.parseMessage(serializer.getByteArray(p.wire())), serverDb);
        Response sent = pipeline.protectResponse(content(v.plain()), v.identifiers());
        return pipeline.unprotectResponse((Response) parser.parseMessage(serializer.getByteArray(sent)), p.identifiers()).plain();
    }

    /** The bound: one raw signature and one raw verification with the provider. */
    @Benchmark
    public boolean rawSignAndVerify() {
        byte[] s = provider.sign(sigAlg, clientKey, toBeSigned);
        return provider.verify(sigAlg, clientKey.publicKey(), toBeSigned, signature0) & s.length > 0;
    }

    /** A pairwise-mode exchange: request and response, each protected, serialized, parsed and verified. */
    @Benchmark
    public Response pairwiseExchange() throws Exception {
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(request(), pairwise);
        ProtectionPipeline.Unprotected<Request> v = pipeline.unprotectRequest(
                (Request) parser.parseMessage(serializer.getByteArray(p.wire())), serverDb);
        Response sent = pipeline.protectResponse(response(v.plain()), v.identifiers());
        return pipeline.unprotectResponse((Response) parser.parseMessage(serializer.getByteArray(sent)), p.identifiers()).plain();
    }

    /** The reference: the same exchange with RFC 8613 OSCORE. */
    @Benchmark
    public Response oscoreExchange() throws Exception {
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(request(), oscoreClient.protector());
        ProtectionPipeline.Unprotected<Request> v = pipeline.unprotectRequest(
                (Request) parser.parseMessage(serializer.getByteArray(p.wire())), oscoreServer);
        Response sent = pipeline.protectResponse(response(v.plain()), v.identifiers());
        return pipeline.unprotectResponse((Response) parser.parseMessage(serializer.getByteArray(sent)), p.identifiers()).plain();
    }
}
