package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server side of {@link OuterBlockwiseLayer}, driven block by block from a plain CoAP client
 * (its own block-wise off) with requests protected by the pipeline: outer Block1 blocks are put
 * together before verification, answered 2.31 hop by hop (unprotected), and the final answer is
 * protected and carries the outer Block1; a block out of order gets 4.08, a Size1 above
 * MAX_RESOURCE_BODY_SIZE 4.13 with Size1, an unknown Block2 follow-up 4.08.
 */
class OuterBlockwiseLayerTest {
    private static final int MAX_BODY = 512;
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    private final List<byte[]> received = new CopyOnWriteArrayList<>();
    private CoapServer server;
    private CoapEndpoint raw;
    private InetSocketAddress serverAddress;
    private OscoreContext client;

    @BeforeEach
    void start() throws Exception {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        cfg.set(CoapConfig.MAX_MESSAGE_SIZE, 128);
        cfg.set(CoapConfig.PREFERRED_BLOCK_SIZE, 64);
        cfg.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, MAX_BODY);
        cfg.set(OuterBlockwiseLayer.MAX_TRANSFERS, 2); // small, so that LIMITS_ can reach it
        CoapEndpoint ep = new OscoreEndpointBuilder().configuration(cfg).bind(new InetSocketAddress("127.0.0.1", 0))
                .serverContexts(new InMemoryContextDb().add(TestContexts.server())).build();
        server = new CoapServer(cfg);
        server.addEndpoint(ep);
        server.add(new CoapResource("sink") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                received.add(exchange.getRequestPayload());
                exchange.respond(ResponseCode.CHANGED, "ok");
            }
        });
        server.start();
        serverAddress = ep.getAddress();
        Configuration rawCfg = OscoreEndpointBuilder.defaultConfiguration();
        rawCfg.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, 0); // Californium's block-wise off: blocks and 2.31 pass as they are
        raw = new CoapEndpoint.Builder().setConfiguration(rawCfg).setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        raw.start();
        client = TestContexts.client();
    }

    @AfterEach
    void stop() {
        raw.destroy();
        server.destroy();
    }

    private ProtectionPipeline.ProtectedRequest protectedPost(int bodyLength) throws Exception {
        Request post = new Request(Code.POST, Type.CON);
        post.getOptions().setUriPath("sink");
        byte[] body = new byte[bodyLength];
        Arrays.fill(body, (byte) 'x');
        post.setPayload(body);
        return p.protectRequest(post, client.protector());
    }

    private Response send(Request wire, byte[] payload, BlockOption block1, Integer size1) throws Exception {
        Request r = new Request(wire.getCode(), Type.CON);
        r.setOptions(new OptionSet(wire.getOptions()));
        r.getOptions().setBlock1(block1);
        if (size1 != null) {
            r.getOptions().setSize1(size1);
        }
        r.setPayload(payload);
        r.setDestinationContext(new AddressEndpointContext(serverAddress));
        raw.sendRequest(r);
        Response resp = r.waitForResponse(5000);
        assertNotNull(resp, "answered");
        return resp;
    }

    @Test
    void outerBlock1IsReassembledBeforeVerification_2_31IsHopByHop_theFinalAnswerIsProtectedWithBlock1() throws Exception {
        ProtectionPipeline.ProtectedRequest pr = protectedPost(150);
        Request wire = pr.wire();
        byte[] c = wire.getPayload();
        assertTrue(c.length > 128, "protected, the request exceeds the MTU");
        Response r0 = send(wire, Arrays.copyOfRange(c, 0, 64), new BlockOption(2, true, 0), c.length);
        assertEquals(ResponseCode.CONTINUE, r0.getCode());
        assertFalse(r0.getOptions().hasOscore(), "2.31 is the hop's, unprotected");
        assertEquals(0, r0.getOptions().getBlock1().getNum());
        assertTrue(received.isEmpty(), "nothing delivered before the last block");
        Response r1 = send(wire, Arrays.copyOfRange(c, 64, 128), new BlockOption(2, true, 1), null);
        assertEquals(ResponseCode.CONTINUE, r1.getCode());
        Response r2 = send(wire, Arrays.copyOfRange(c, 128, c.length), new BlockOption(2, false, 2), null);
        assertTrue(r2.getOptions().hasOscore(), "the answer to the whole request is protected");
        BlockOption last = r2.getOptions().getBlock1();
        assertNotNull(last, "the final answer carries the outer Block1 (RFC 7959 2.3)");
        assertEquals(2, last.getNum());
        assertFalse(last.isM());
        assertEquals(1, received.size());
        assertEquals(150, received.get(0).length, "the resource got the whole body");
        // the outer Block1 is not in the AAD: the response verifies with it on
        ProtectionPipeline.Unprotected<Response> u = p.unprotectResponse(r2, pr.identifiers());
        assertEquals(ResponseCode.CHANGED, u.plain().getCode());
        assertEquals("ok", u.plain().getPayloadString());
        assertFalse(u.plain().getOptions().hasBlock1(), "outer Block1 is kept apart from the plain response");
        assertTrue(u.hopByHop().stream().anyMatch(o -> o.getNumber() == 27), "and reported as hop by hop");
    }

    @Test
    void aBlockOutOfOrderGets4_08_aSize1AboveTheLimitGets4_13WithSize1() throws Exception {
        ProtectionPipeline.ProtectedRequest pr = protectedPost(150);
        byte[] c = pr.wire().getPayload();
        assertEquals(ResponseCode.CONTINUE,
                send(pr.wire(), Arrays.copyOfRange(c, 0, 64), new BlockOption(2, true, 0), c.length).getCode());
        Response skipped = send(pr.wire(), Arrays.copyOfRange(c, 128, c.length), new BlockOption(2, false, 2), null);
        assertEquals(ResponseCode.REQUEST_ENTITY_INCOMPLETE, skipped.getCode());
        assertFalse(skipped.getOptions().hasOscore());

        ProtectionPipeline.ProtectedRequest big = protectedPost(150);
        byte[] b = big.wire().getPayload();
        Response tooLarge = send(big.wire(), Arrays.copyOfRange(b, 0, 64), new BlockOption(2, true, 0), MAX_BODY + 1);
        assertEquals(ResponseCode.REQUEST_ENTITY_TOO_LARGE, tooLarge.getCode());
        assertEquals(MAX_BODY, tooLarge.getOptions().getSize1().intValue());
        assertTrue(received.isEmpty(), "neither request reached the resource");

        // positive control: the same sequence in order is delivered
        ProtectionPipeline.ProtectedRequest ok = protectedPost(100);
        byte[] o = ok.wire().getPayload();
        send(ok.wire(), Arrays.copyOfRange(o, 0, 64), new BlockOption(2, true, 0), o.length);
        Response done = send(ok.wire(), Arrays.copyOfRange(o, 64, o.length), new BlockOption(2, false, 1), null);
        assertEquals("ok", p.unprotectResponse(done, ok.identifiers()).plain().getPayloadString());
        assertEquals(1, received.size());
    }

    @Test
    void LIMITS_atMostMaxTransfersAreKept_theLeastRecentlyUsedGoes_theOthersComplete() throws Exception {
        ProtectionPipeline.ProtectedRequest a = protectedPost(100);
        ProtectionPipeline.ProtectedRequest b = protectedPost(100);
        ProtectionPipeline.ProtectedRequest c = protectedPost(100);
        for (ProtectionPipeline.ProtectedRequest t : List.of(a, b, c)) {
            byte[] x = t.wire().getPayload();
            assertEquals(ResponseCode.CONTINUE, send(t.wire(), Arrays.copyOfRange(x, 0, 64), new BlockOption(2, true, 0), x.length)
                    .getCode());
        }
        // three begun, two kept: the first one's next block finds no transfer
        byte[] ax = a.wire().getPayload();
        Response lost = send(a.wire(), Arrays.copyOfRange(ax, 64, ax.length), new BlockOption(2, false, 1), null);
        assertEquals(ResponseCode.REQUEST_ENTITY_INCOMPLETE, lost.getCode());
        // positive control: the two kept transfers complete
        for (ProtectionPipeline.ProtectedRequest t : List.of(b, c)) {
            byte[] x = t.wire().getPayload();
            Response done = send(t.wire(), Arrays.copyOfRange(x, 64, x.length), new BlockOption(2, false, 1), null);
            assertEquals("ok", p.unprotectResponse(done, t.identifiers()).plain().getPayloadString());
        }
        assertEquals(2, received.size());
    }

    @Test
    void aBlock2FollowUpForNoTransferGets4_08Unprotected() throws Exception {
        ProtectionPipeline.ProtectedRequest pr = protectedPost(10);
        Request r = new Request(Code.POST, Type.CON);
        r.setOptions(new OptionSet(pr.wire().getOptions()));
        r.getOptions().setBlock2(2, false, 1);
        r.setDestinationContext(new AddressEndpointContext(serverAddress));
        raw.sendRequest(r);
        Response resp = r.waitForResponse(5000);
        assertNotNull(resp);
        assertEquals(ResponseCode.REQUEST_ENTITY_INCOMPLETE, resp.getCode());
        assertFalse(resp.getOptions().hasOscore());
        assertTrue(received.isEmpty());
    }
}
