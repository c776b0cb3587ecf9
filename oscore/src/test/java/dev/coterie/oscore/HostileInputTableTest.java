package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Malformed and hostile messages, each with the exact answer it gets (RFC 8613 Section 8.2,
 * digest table 1.6) or the silence it gets. After every rejected row the server's replay
 * window and sender sequence are unchanged and no resource ran.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputTableTest {
    private static final byte[] SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");

    private OscoreContext server;
    private CoapServer coap;
    private InetSocketAddress address;
    private final AtomicInteger handled = new AtomicInteger();
    private final ProtectionPipeline protection = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    private final java.util.Map<Request, RequestIdentifiers> sentIds = new java.util.IdentityHashMap<>();
    private long nextSeq = 1000;
    private int mid = 1;

    enum Outcome { ERROR, SILENCE, OK, PROTECTED_ERROR }

    record Row(String name, byte[] wire, Outcome outcome, ResponseCode code, String diagnostic, Type type,
               RequestIdentifiers binding) {
    }

    @BeforeAll
    void start() throws Exception {
        server = context(new byte[] {1}, new byte[0], null, SECRET, SecurityStateStore.inMemory());
        Configuration config = Configuration.createStandardWithoutFile();
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(config)
                .serverContexts(new InMemoryContextDb().add(server)).build();
        coap = new CoapServer(config);
        coap.addEndpoint(ep);
        coap.add(new CoapResource("hello") {
            @Override
            public void handleGET(CoapExchange exchange) {
                handled.incrementAndGet();
                exchange.respond(ResponseCode.CONTENT, "Hello World!");
            }

            @Override
            public void handlePOST(CoapExchange exchange) {
                handled.incrementAndGet();
                exchange.respond(ResponseCode.CHANGED, "posted");
            }
        });
        coap.start();
        address = ep.getAddress();
        // one valid request so that the window has a history to protect
        sendValid();
    }

    @AfterAll
    void stop() {
        coap.destroy();
    }

    private static OscoreContext context(byte[] sender, byte[] recipient, byte[] idContext, byte[] secret,
                                         SecurityStateStore store) throws Exception {
        return OscoreContext.builder().masterSecret(SecretBytes.copyOf(secret)).masterSalt(SALT).idContext(idContext)
                .senderId(sender).recipientId(recipient).stateStore(store).build();
    }

    private OscoreContext client(long seq) throws Exception {
        return context(new byte[0], new byte[] {1}, null, SECRET, SecurityStateStore.inMemoryStartingAt(seq));
    }

    private Request plainGet() {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(mid++ & 0xffff);
        r.setToken(new byte[] {(byte) mid, 0x5a});
        r.getOptions().setUriPath("hello");
        return r;
    }

    /** Protects {@code plain}; the wire request's identifiers are kept for verifying its response. */
    private Request protect(Request plain, OscoreContext c) throws Exception {
        ProtectionPipeline.ProtectedRequest p = protection.protectRequest(plain, c.protector());
        sentIds.put(p.wire(), p.identifiers());
        return p.wire();
    }

    private RequestIdentifiers idsOf(Request wire) {
        return sentIds.get(wire);
    }

    private Request valid() throws Exception {
        return protect(plainGet(), client(nextSeq++));
    }

    private void sendValid() throws Exception {
        Request p = valid();
        Response r = (Response) exchange(bytes(p));
        assertEquals(ResponseCode.CHANGED, r.getCode());
    }

    private static byte[] bytes(Message m) {
        return new UdpDataSerializer().getByteArray(m);
    }

    /** A request whose OSCORE option value is replaced after protection. */
    private byte[] withOption(String optionHex) throws Exception {
        Request p = valid();
        p.getOptions().setOscore(Hex.decode(optionHex));
        return bytes(p);
    }

    /** A correctly encrypted request with an arbitrary plaintext. */
    private byte[] craft(byte[] plaintext) throws Exception {
        OscoreContext c = client(nextSeq++);
        byte[] piv = SealingNonce.partialIv(c.senderSequence().next());
        byte[] nonce = Nonce.build(c.commonIvRaw(), 13, c.senderIdRaw(), piv);
        byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(c.algorithmsCbor(), c.senderIdRaw(), piv,
                new byte[0]));
        Request r = new Request(Code.POST, Type.CON);
        r.setMID(mid++ & 0xffff);
        r.setToken(new byte[] {(byte) mid});
        r.getOptions().setOscore(new OscoreOptionValue(piv, null, c.senderIdRaw(), false).encode());
        r.setPayload(c.senderKey().seal(nonce, aad, plaintext));
        return bytes(r);
    }

    private byte[] mutatePayload(java.util.function.UnaryOperator<byte[]> f) throws Exception {
        Request p = valid();
        p.setPayload(f.apply(p.getPayload()));
        return bytes(p);
    }

    private static Row error(String name, byte[] wire, ResponseCode code, String diagnostic) {
        return new Row(name, wire, Outcome.ERROR, code, diagnostic, Type.ACK, null);
    }

    private List<Row> rows() throws Exception {
        List<Row> t = new ArrayList<>();
        ResponseCode bo = ResponseCode.BAD_OPTION;
        String dec = "Failed to decode COSE";
        // --- OSCORE option and COSE decoding: 4.02 Bad Option
        t.add(error("reserved flag bit 0x80", withOption("892000"), bo, dec));
        t.add(error("reserved flag bit 0x40", withOption("492000"), bo, dec));
        t.add(error("Group Flag on a plain OSCORE endpoint", withOption("292000"), bo, dec));
        t.add(error("Partial IV length n = 6", withOption("0e000000000001"), bo, dec));
        t.add(error("Partial IV length n = 7", withOption("0f00000000000001"), bo, dec));
        t.add(error("kid context length runs past the option", withOption("1914ff0102"), bo, dec));
        t.add(error("kid context flag without a length byte", withOption("1114"), bo, dec));
        t.add(error("Partial IV longer than the option", withOption("0b14"), bo, dec));
        t.add(error("trailing bytes without kid flag", withOption("0114aabb"), bo, dec));
        t.add(error("request without kid", withOption("0120"), bo, dec));
        t.add(error("request without Partial IV", withOption("08"), bo, dec));
        t.add(error("empty OSCORE option in a request", withOption(""), bo, dec));
        t.add(error("kid longer than any nonce allows (8 bytes)", withOption("0920" + "0102030405060708"), bo, dec));
        t.add(error("empty payload", mutatePayload(p -> new byte[0]), bo, dec));
        t.add(error("inner code is a response code (2.05)", craft(Hex.decode("45")), bo, dec));
        t.add(error("inner option header with reserved nibble 15", craft(Hex.decode("01f0")), bo, dec));
        t.add(error("inner payload marker without payload", craft(Hex.decode("01b568656c6c6fff")), bo, dec));
        t.add(error("inner option runs past the plaintext", craft(Hex.decode("01b868656c")), bo, dec));
        t.add(error("OSCORE option inside the plaintext (nesting off)", craft(Hex.decode("019109b2" + "68656c6c6f")), bo, dec));
        t.add(error("inner Content-Format of 3 bytes", craft(Hex.decode("01b568656c6c6f13010203")), bo, dec));
        t.add(error("inner code 0.00 (empty message code)", craft(Hex.decode("00")), bo, dec));
        // --- no Recipient Context: 4.01 Unauthorized
        ResponseCode un = ResponseCode.UNAUTHORIZED;
        String ctxnf = "Security context not found";
        t.add(error("unknown kid", withOption("092042"), un, ctxnf));
        t.add(error("unknown kid context", withOption("19200401020304"), un, ctxnf));
        t.add(error("kid context for a context that has none", withOption("192008" + "37cbf3210017a2d3"), un, ctxnf));
        t.add(error("server's own Sender ID as kid (reflection)", withOption("092001"), un, ctxnf));
        // --- AEAD: 4.00 Bad Request
        ResponseCode br = ResponseCode.BAD_REQUEST;
        String df = "Decryption failed";
        t.add(error("ciphertext shorter than the tag", mutatePayload(p -> Arrays.copyOf(p, 5)), br, df));
        t.add(error("flipped tag bit", mutatePayload(p -> flip(p, p.length - 1)), br, df));
        t.add(error("flipped ciphertext bit", mutatePayload(p -> flip(p, 0)), br, df));
        t.add(error("ciphertext truncated by one byte", mutatePayload(p -> Arrays.copyOf(p, p.length - 1)), br, df));
        t.add(error("ciphertext extended by one byte", mutatePayload(p -> Arrays.copyOf(p, p.length + 1)), br, df));
        OscoreContext wrong = context(new byte[0], new byte[] {1}, null, Hex.decode("ffeeddccbbaa99887766554433221100"),
                SecurityStateStore.inMemoryStartingAt(nextSeq++));
        t.add(error("encrypted under another Master Secret", bytes(protect(plainGet(), wrong)), br, df));
        Request moved = valid();
        byte[] pivChanged = moved.getOptions().getOscore();
        pivChanged[2] ^= 1;
        moved.getOptions().setOscore(pivChanged);
        t.add(error("Partial IV changed after encryption", bytes(moved), br, df));
        Request nonMinimal = valid();
        byte[] o = nonMinimal.getOptions().getOscore();
        // "09 03e8" (n = 2) becomes "0b 0003e8" (n = 3): same number, but not the bytes that were authenticated
        nonMinimal.getOptions().setOscore(Hex.decode("0b00" + Hex.encode(o, 1, o.length - 1)));
        t.add(error("non-minimal Partial IV encoding", bytes(nonMinimal), br, df));
        Request non = valid();
        non.setType(Type.NON);
        non.setPayload(flip(non.getPayload(), 0));
        t.add(new Row("NON request with a bad tag", bytes(non), Outcome.ERROR, br, df, Type.NON, null));
        // --- replay: 4.01 Unauthorized
        String rd = "Replay detected";
        Request first = valid();
        byte[] replayed = bytes(first);
        assertEquals(ResponseCode.CHANGED, ((Response) exchange(replayed)).getCode());
        t.add(error("replayed request (new source endpoint)", replayed, un, rd));
        Request older = protect(plainGet(), client(nextSeq - 40));
        t.add(error("Partial IV far older than the window", bytes(older), un, rd));
        Request edge = protect(plainGet(), client(nextSeq - 1 - 32));
        t.add(error("Partial IV exactly one past the window edge", bytes(edge), un, rd));
        Request zero = protect(plainGet(), client(0));
        t.add(error("Partial IV 0 long after it was passed", bytes(zero), un, rd));
        // --- not protected at all: 4.01, unprotected
        t.add(error("plain GET to an OSCORE-only server", bytes(plainGet()), un, "OSCORE required"));
        Request plainPost = new Request(Code.POST, Type.CON);
        plainPost.setMID(mid++ & 0xffff);
        plainPost.setToken(new byte[] {(byte) mid});
        plainPost.getOptions().setUriPath("hello");
        plainPost.setPayload("on");
        t.add(error("plain POST with payload", bytes(plainPost), un, "OSCORE required"));
        // --- accepted: outer copies of inner things are ignored (OSC-11)
        Request outerPath = valid();
        outerPath.getOptions().addUriPath("admin");
        t.add(new Row("class-E Uri-Path sent outside is ignored", bytes(outerPath), Outcome.OK, ResponseCode.CONTENT,
                "Hello World!", Type.ACK, idsOf(outerPath)));
        Request outerCode = valid();
        byte[] putWire = bytes(outerCode);
        putWire[1] = 0x03; // header code 0.03 PUT
        t.add(new Row("outer code PUT instead of POST is ignored", putWire, Outcome.OK, ResponseCode.CONTENT,
                "Hello World!", Type.ACK, idsOf(outerCode)));
        Request outerMaxAge = valid();
        outerMaxAge.getOptions().setMaxAge(7).setContentFormat(50);
        t.add(new Row("outer Max-Age and Content-Format are ignored", bytes(outerMaxAge), Outcome.OK,
                ResponseCode.CONTENT, "Hello World!", Type.ACK, idsOf(outerMaxAge)));
        Request withEcho = plainGet();
        withEcho.getOptions().addOption(StandardOptionRegistry.ECHO.create(new byte[] {1, 2, 3}));
        Request echoed = protect(withEcho, client(nextSeq++));
        t.add(new Row("unrequested inner Echo is harmless", bytes(echoed), Outcome.OK, ResponseCode.CONTENT,
                "Hello World!", Type.ACK, idsOf(echoed)));
        // issue 6 defect 9: an unrecognized critical inner option was delivered; it is a protected 4.02 (RFC 7252 5.4.1)
        Request critical = plainGet();
        critical.getOptions().addOption(new Option(65001, new byte[] {1}));
        Request criticalWire = protect(critical, client(nextSeq++));
        t.add(new Row("unrecognized critical inner option (65001)", bytes(criticalWire), Outcome.PROTECTED_ERROR,
                ResponseCode.BAD_OPTION, "Unrecognized critical option 65001", Type.ACK, idsOf(criticalWire)));
        Request elective = plainGet();
        elective.getOptions().addOption(new Option(65000, new byte[] {1}));
        Request electiveWire = protect(elective, client(nextSeq++));
        t.add(new Row("unrecognized elective inner option (65000) is ignored", bytes(electiveWire), Outcome.OK,
                ResponseCode.CONTENT, "Hello World!", Type.ACK, idsOf(electiveWire)));
        // --- silence: not CoAP, or not a request
        t.add(new Row("CoAP version 2 header", Hex.decode("84010001ff00"), Outcome.SILENCE, null, null, null, null));
        t.add(new Row("three bytes of garbage", Hex.decode("ffffff"), Outcome.SILENCE, null, null, null, null));
        Request asAck = valid();
        Response unsolicited = new Response(ResponseCode.CHANGED);
        unsolicited.setType(Type.ACK);
        unsolicited.setMID(4000);
        unsolicited.setToken(new byte[] {1});
        unsolicited.getOptions().setOscore(Hex.decode("0100"));
        unsolicited.setPayload(asAck.getPayload());
        t.add(new Row("unsolicited protected ACK response", bytes(unsolicited), Outcome.SILENCE, null, null, null, null));
        return t;
    }

    private static byte[] flip(byte[] b, int i) {
        byte[] c = b.clone();
        c[i] ^= 1;
        return c;
    }

    private Message exchange(byte[] wire) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            s.setSoTimeout(1500);
            s.send(new DatagramPacket(wire, wire.length, address));
            byte[] buf = new byte[2048];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            }
            return new UdpDataParser().parseMessage(Arrays.copyOf(buf, p.getLength()));
        }
    }

    @Test
    void everyHostileRequestGetsExactlyItsResponseAndLeavesStateUnchanged() throws Exception {
        List<Row> rows = rows();
        assertTrue(rows.size() >= 40, "at least 40 rows, have " + rows.size());
        List<String> failures = new ArrayList<>();
        for (Row row : rows) {
            String windowBefore = server.replayWindow().snapshot();
            long seqBefore = server.senderSequence().peek();
            int handledBefore = handled.get();
            Message answer = exchange(row.wire());
            try {
                switch (row.outcome()) {
                    case SILENCE:
                        assertNull(answer, "silence expected");
                        break;
                    case ERROR: {
                        assertNotNull(answer, "no answer");
                        Response r = (Response) answer;
                        assertEquals(row.code(), r.getCode());
                        assertEquals(row.diagnostic(), r.getPayloadString());
                        assertEquals(row.type(), r.getType());
                        assertEquals(0L, r.getOptions().getMaxAge(), "Max-Age 0");
                        assertNull(r.getOptions().getOscore(), "unprotected");
                        break;
                    }
                    default: {
                        Response r = protection.unprotectResponse((Response) answer, row.binding()).plain();
                        assertEquals(row.code(), r.getCode());
                        assertEquals(row.diagnostic(), r.getPayloadString());
                    }
                }
                if (row.outcome() == Outcome.PROTECTED_ERROR) {
                    // the request was authentic and fresh: its Partial IV is used up, but no resource ran
                    assertEquals(handledBefore, handled.get(), "a resource ran");
                } else if (row.outcome() != Outcome.OK) {
                    assertEquals(windowBefore, server.replayWindow().snapshot(), "replay window changed");
                    assertEquals(seqBefore, server.senderSequence().peek(), "sender sequence changed");
                    assertEquals(handledBefore, handled.get(), "a resource ran");
                }
            } catch (AssertionError | RuntimeException | OscoreException e) {
                failures.add(row.name() + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + rows.size() + " rows failed:\n" + String.join("\n", failures));
        }
    }

    /* ---------------------------------------------------------------- client side: silence */

    @Test
    void hostileResponsesAreDroppedByTheClient() throws Exception {
        OscoreContext c = client(nextSeq++);
        ProtectionPipeline.ProtectedRequest p = protection.protectRequest(plainGet(), c.protector());
        RequestIdentifiers v = protection.unprotectRequest((Request) new UdpDataParser().parseMessage(bytes(p.wire())),
                new InMemoryContextDb().add(context(new byte[] {1}, new byte[0], null, SECRET, SecurityStateStore.inMemory())))
                .identifiers();
        Response ok = new Response(ResponseCode.CONTENT);
        ok.setType(Type.ACK);
        ok.setMID(1);
        ok.setToken(new byte[] {1});
        ok.setPayload("fine");
        v.claimReusableNonce(); // a response with the server's own Partial IV
        Response good = parse(protection.protectResponse(ok, v));
        // positive control first, on its own identifiers (Response Numbers would reject a second look)
        ProtectionPipeline.ProtectedRequest q = protection.protectRequest(plainGet(), c.protector());
        assertEquals("fine", protection.unprotectResponse(good, p.identifiers()).plain().getPayloadString());

        Response tampered = parse(good);
        tampered.setPayload(flip(tampered.getPayload(), 0));
        expect(OscoreException.DecryptionFailed.class, tampered, p.identifiers(), "flipped ciphertext bit");

        Response reservedFlag = parse(good);
        reservedFlag.getOptions().setOscore(Hex.decode("8100"));
        expect(OscoreException.DecodeFailure.class, reservedFlag, p.identifiers(), "reserved flag in response");

        Response unprotected = parse(good);
        unprotected.getOptions().removeOscore();
        expect(OscoreException.DecodeFailure.class, unprotected, p.identifiers(), "unprotected 2.05");

        Response empty = parse(good);
        empty.setPayload(new byte[0]);
        expect(OscoreException.DecodeFailure.class, empty, p.identifiers(), "empty payload");

        // a response that belongs to another request does not verify against this one's identifiers
        expect(OscoreException.DecryptionFailed.class, parse(good), q.identifiers(), "response swapped between requests");
    }

    @Test
    void OSC_17_aNotificationWhosePartialIvRepeatsIsDropped() throws Exception {
        OscoreContext c = client(nextSeq++);
        Request reg = plainGet();
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest p = protection.protectRequest(reg, c.protector());
        OscoreContext srv = context(new byte[] {1}, new byte[0], null, SECRET, SecurityStateStore.inMemory());
        RequestIdentifiers v = protection.unprotectRequest((Request) new UdpDataParser().parseMessage(bytes(p.wire())),
                new InMemoryContextDb().add(srv)).identifiers();
        Response n = new Response(ResponseCode.CONTENT);
        n.setType(Type.NON);
        n.setMID(9);
        n.setToken(new byte[] {1});
        n.getOptions().setObserve(9);
        Response wire = parse(protection.protectResponse(n, v));
        protection.unprotectResponse(wire, p.identifiers());
        expect(OscoreException.Replay.class, parse(wire), p.identifiers(), "repeated notification");
    }

    private static Response parse(Response r) {
        return (Response) new UdpDataParser().parseMessage(bytes(r));
    }

    private void expect(Class<? extends OscoreException> type, Response r, RequestIdentifiers b, String what) {
        try {
            protection.unprotectResponse(r, b);
            fail(what + ": accepted");
        } catch (OscoreException e) {
            assertEquals(type, e.getClass(), what);
        }
    }

    /* ---------------------------------------------------------------- no unhandled exception */

    @Test
    void randomMutationsNeverThrowAnythingButOscoreFailuresAndNeverMoveTheWindow() throws Exception {
        Random r = new Random(8613);
        OscoreContext srv = context(new byte[] {1}, new byte[0], null, SECRET, SecurityStateStore.inMemory());
        InMemoryContextDb db = new InMemoryContextDb().add(srv);
        OscoreContext c = client(5);
        int accepted = 0;
        for (int i = 0; i < 20000; i++) {
            Request plain = plainGet();
            if (r.nextBoolean()) {
                plain.getOptions().addUriQuery("q=" + i).setAccept(r.nextInt(100));
            }
            byte[] wire = bytes(protection.protectRequest(plain, c.protector()).wire());
            byte[] original = wire.clone();
            int flips = 1 + r.nextInt(3);
            int start = 4 + plain.getTokenBytes().length; // the Token is not authenticated by OSCORE
            for (int f = 0; f < flips; f++) {
                int pos = start + r.nextInt(wire.length - start);
                wire[pos] ^= (byte) (1 << r.nextInt(8));
            }
            if (Arrays.equals(original, wire)) {
                continue; // two flips of the same bit cancelled out
            }
            Request parsed;
            try {
                parsed = (Request) new UdpDataParser().parseMessage(wire);
            } catch (RuntimeException notCoap) {
                continue; // Californium's parser rejects it before OSCORE sees it
            }
            String before = srv.replayWindow().snapshot();
            try {
                protection.unprotectRequest(parsed, db);
                accepted++;
            } catch (OscoreException | ProtectedAnswerRequired expected) {
                assertEquals(before, srv.replayWindow().snapshot(), "window moved on a failure at iteration " + i);
            } catch (ClassCastException notARequest) {
                continue;
            }
        }
        assertEquals(0, accepted, "a flipped bit after the Token never survives authentication");
    }
}
