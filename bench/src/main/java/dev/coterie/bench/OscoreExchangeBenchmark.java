package dev.coterie.bench;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.ProtectionPipeline;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.cose.AlgorithmID;
import org.eclipse.californium.elements.util.Bytes;
import org.eclipse.californium.oscore.HashMapCtxDB;
import org.eclipse.californium.oscore.OSCoreCtx;
import org.eclipse.californium.oscore.OscoreOptionDecoder;
import org.eclipse.californium.oscore.RequestDecryptor;
import org.eclipse.californium.oscore.RequestEncryptor;
import org.eclipse.californium.oscore.ResponseDecryptor;
import org.eclipse.californium.oscore.ResponseEncryptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One OSCORE exchange in memory: build a request with a 64-byte payload, protect, serialize,
 * parse, verify; build the response (64 bytes), protect, serialize, parse, verify. Coterie
 * beside Eclipse Californium cf-oscore 3.13.0, with the same Californium message model and
 * serializer on both sides. cf-oscore runs on {@link LiveTokenCtxDb} (its own database keeps every
 * token ever seen and scans them per request) and removes its tokens after each exchange, as its
 * stack layer does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class OscoreExchangeBenchmark {
    static final byte[] SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    static final byte[] SALT = Hex.decode("9e7ca92223786340");
    static final byte[] PAYLOAD = new byte[64];
    static final String URI = "coap://127.0.0.1:5683/bench";

    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final UdpDataParser parser = new UdpDataParser();

    private ProtectionPipeline protection;
    private OscoreContext client;
    private InMemoryContextDb serverDb;

    private HashMapCtxDB cfClientDb;
    private HashMapCtxDB cfServerDb;
    private int mid;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        protection = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        client = context(new byte[0], new byte[] {1});
        serverDb = new InMemoryContextDb().add(context(new byte[] {1}, new byte[0]));

        cfClientDb = new LiveTokenCtxDb();
        cfClientDb.addContext(URI, new OSCoreCtx(SECRET, true, AlgorithmID.AES_CCM_16_64_128, new byte[0],
                new byte[] {1}, AlgorithmID.HKDF_HMAC_SHA_256, 32, SALT, null, 4096));
        cfServerDb = new LiveTokenCtxDb();
        cfServerDb.addContext(new OSCoreCtx(SECRET, false, AlgorithmID.AES_CCM_16_64_128, new byte[] {1},
                new byte[0], AlgorithmID.HKDF_HMAC_SHA_256, 32, SALT, null, 4096));
    }

    static OscoreContext context(byte[] sender, byte[] recipient) throws Exception {
        // a benchmark protects more messages than the key usage limits allow (2^20): limits off, said here
        return OscoreContext.builder().masterSecret(SecretBytes.copyOf(SECRET)).masterSalt(SALT)
                .senderId(sender).recipientId(recipient).keyUsageLimits(false).stateStore(SecurityStateStore.inMemory()).build();
    }

    private Request request() {
        Request r = new Request(Code.POST, Type.CON);
        r.setMID(mid = (mid + 1) & 0xffff);
        r.setToken(new byte[] {(byte) mid, (byte) (mid >> 8), 7, 7});
        r.setURI(URI);
        r.setPayload(PAYLOAD);
        return r;
    }

    private static Response response(Request to) {
        Response r = new Response(ResponseCode.CHANGED);
        r.setType(Type.ACK);
        r.setMID(to.getMID());
        r.setToken(to.getToken());
        r.setPayload(PAYLOAD);
        return r;
    }

    @Benchmark
    public Response coterie() throws Exception {
        ProtectionPipeline.ProtectedRequest p = protection.protectRequest(request(), client.protector());
        Request onWire = (Request) parser.parseMessage(serializer.getByteArray(p.wire()));
        ProtectionPipeline.Unprotected<Request> v = protection.unprotectRequest(onWire, serverDb);
        Response sent = protection.protectResponse(response(v.plain()), v.identifiers());
        Response received = (Response) parser.parseMessage(serializer.getByteArray(sent));
        return protection.unprotectResponse(received, p.identifiers()).plain();
    }

    @Benchmark
    public Response cfOscore() throws Exception {
        Request r = request();
        r.getOptions().setOscore(Bytes.EMPTY);
        OSCoreCtx cctx = cfClientDb.getContext(URI);
        Request p = RequestEncryptor.encrypt(cfClientDb, r);
        cfClientDb.addContext(p.getToken(), cctx);
        Request onWire = (Request) parser.parseMessage(serializer.getByteArray(p));
        OscoreOptionDecoder dec = new OscoreOptionDecoder(onWire.getOptions().getOscore());
        int requestSeq = dec.getSequenceNumber();
        OSCoreCtx sctx = cfServerDb.getContext(dec.getKid(), dec.getIdContext());
        Request v = RequestDecryptor.decrypt(cfServerDb, onWire, sctx);
        Response sent = ResponseEncryptor.encrypt(cfServerDb, response(v), sctx, false, false, requestSeq);
        cfServerDb.removeToken(v.getToken());
        Response received = (Response) parser.parseMessage(serializer.getByteArray(sent));
        Response out = ResponseDecryptor.decrypt(cfClientDb, received, requestSeq);
        cfClientDb.removeToken(received.getToken());
        return out;
    }

    /** The same exchange without OSCORE: the cost of the message model and serializer alone. */
    @Benchmark
    public Response plainCoap() {
        Request onWire = (Request) parser.parseMessage(serializer.getByteArray(request()));
        return (Response) parser.parseMessage(serializer.getByteArray(response(onWire)));
    }
}
