package dev.coterie.oscore;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.stack.AbstractLayer;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.IntegerDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outer, hop-by-hop block-wise transfer of OSCORE messages (RFC 8613 Section 4.1.3.4.2), below
 * the OSCORE layer: a protected message whose datagram would exceed
 * {@link CoapConfig#MAX_MESSAGE_SIZE} is cut into blocks <em>after</em> protection, with outer
 * (class U) Block1/Size1 or Block2/Size2 options next to its OSCORE option, and a message that
 * arrives in outer blocks is put together <em>before</em> verification. The options never enter
 * the plaintext or the AAD: the OSCORE layer protects and verifies the whole message, and
 * {@link OptionClassifier#onReceive} keeps any outer Block option apart.
 *
 * <p>Californium's {@code BlockwiseLayer} stays above the OSCORE layer for inner (end-to-end)
 * block-wise of application bodies; it is not reused here, because it finds its transfers from
 * {@code exchange.getRequest()}, which the OSCORE layer keeps plain (on a client it is the
 * application's request, on a server it becomes the verified one), and its key (URI and peer)
 * is the same for every protected request from one peer, which carries no Uri-Path outside.
 * This layer keys a server side transfer by the peer and the value of the request's OSCORE
 * option (kid, kid context, Partial IV: one per request), so concurrent transfers from one peer
 * do not mix; a client side transfer is kept with its exchange.
 *
 * <p>Rules: only unicast messages with an OSCORE option; not notifications (a notification too
 * large is sent whole, and one that comes in outer blocks is passed on as it came). A block is at most {@link CoapConfig#PREFERRED_BLOCK_SIZE} and as large
 * as fits the datagram within {@code MAX_MESSAGE_SIZE}. A reassembled message is at most
 * {@link CoapConfig#MAX_RESOURCE_BODY_SIZE} bytes (the MAX_UNFRAGMENTED_SIZE of RFC 8613; 4.13
 * with Size1 past it; a server sends a response past it whole, a client fails a download past
 * it; 0 turns the layer off); at most {@link #MAX_TRANSFERS} server side
 * transfers are kept (the least recently used goes), each for at most
 * {@link CoapConfig#BLOCKWISE_STATUS_LIFETIME}. Block-wise answers of this layer (2.31, 4.08,
 * 4.13) are unprotected, as hop-by-hop messages.
 */
public final class OuterBlockwiseLayer extends AbstractLayer {
    private static final Logger LOG = LoggerFactory.getLogger(OuterBlockwiseLayer.class);

    /** The most outer block-wise transfers a server side keeps at once, both directions together (default 256). */
    public static final IntegerDefinition MAX_TRANSFERS = new IntegerDefinition("COTERIE.OUTER_BLOCKWISE_MAX_TRANSFERS",
            "Maximum outer (hop-by-hop) block-wise transfers an endpoint keeps at once.", 256, 1);

    private final int maxMessageSize;
    private final int preferredSzx;
    private final int maxBody;
    private final int tokenLimit;
    private final long lifetimeNanos;
    private final int maxTransfers;

    /** Server side: incoming Block1 bodies being put together, by peer and request OSCORE option. */
    private final Map<String, Inbound> uploads;
    /** Server side: protected responses being served block by block, by peer and request OSCORE option. */
    private final Map<String, Outbound> downloads;
    /** Server side: the transfer key of each exchange of an OSCORE request, for its response. */
    private final Map<Exchange, String> keys = Collections.synchronizedMap(new WeakHashMap<>());
    /** Server side: the Block1 option the response to a reassembled request carries. */
    private final Map<Exchange, BlockOption> lastBlock1 = Collections.synchronizedMap(new WeakHashMap<>());
    /** Server side: the block size a request asked for with an outer Block2 of number 0 (early negotiation). */
    private final Map<Exchange, Integer> askedSzx = Collections.synchronizedMap(new WeakHashMap<>());
    /** Client side: transfers by exchange. */
    private final Map<Exchange, ClientTransfer> clients = Collections.synchronizedMap(new WeakHashMap<>());

    public OuterBlockwiseLayer(Configuration config) {
        this.maxMessageSize = config.get(CoapConfig.MAX_MESSAGE_SIZE);
        this.preferredSzx = BlockOption.size2Szx(config.get(CoapConfig.PREFERRED_BLOCK_SIZE));
        this.maxBody = config.get(CoapConfig.MAX_RESOURCE_BODY_SIZE);
        this.tokenLimit = config.get(CoapConfig.TOKEN_SIZE_LIMIT);
        this.lifetimeNanos = config.get(CoapConfig.BLOCKWISE_STATUS_LIFETIME, TimeUnit.NANOSECONDS);
        Integer max = config.get(MAX_TRANSFERS);
        this.maxTransfers = max != null ? max : MAX_TRANSFERS.getDefaultValue();
        this.uploads = lru();
        this.downloads = lru();
    }

    private <V> Map<String, V> lru() {
        return Collections.synchronizedMap(new LinkedHashMap<String, V>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > maxTransfers;
            }
        });
    }

    /** Transfers a server side keeps now (for tests and metrics). */
    public int serverTransfers() {
        return uploads.size() + downloads.size();
    }

    private abstract static class Timed {
        long touched = System.nanoTime();
    }

    private static final class Inbound extends Timed {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        int szx;
    }

    private static final class Outbound extends Timed {
        final Response whole;
        final byte[] body;
        final int szx;

        Outbound(Response whole, int szx) {
            this.whole = whole;
            this.body = whole.getPayload();
            this.szx = szx;
        }
    }

    private static final class ClientTransfer {
        final Request wire;
        byte[] upload; // null once the request body is sent
        int szx;
        int offset; // of the last block sent
        ByteArrayOutputStream download;

        ClientTransfer(Request wire) {
            this.wire = wire;
        }
    }

    /* ================================================================ client side */

    @Override
    public void sendRequest(Exchange exchange, Request request) {
        if (!applies(request) || request.isMulticast() || size(request, request.getPayloadSize()) <= maxMessageSize) {
            super.sendRequest(exchange, request);
            return;
        }
        if (request.getPayloadSize() > maxBody) {
            LOG.debug("protected request of {} bytes exceeds the outer block-wise limit of {}", request.getPayloadSize(), maxBody);
            request.setSendError(new OscoreSendRefusedException("protected request larger than MAX_RESOURCE_BODY_SIZE"));
            exchange.executeComplete();
            return;
        }
        ClientTransfer t = new ClientTransfer(request);
        t.upload = request.getPayload();
        t.szx = fittingSzx(request, t.upload.length, true);
        clients.put(exchange, t);
        sendBlock1(exchange, t, 0);
        if (request.getToken() == null && exchange.getCurrentRequest().getToken() != null) {
            // the OSCORE layer finds the response by the token the matcher gave the first block
            request.setToken(exchange.getCurrentRequest().getToken());
        }
    }

    private void sendBlock1(Exchange exchange, ClientTransfer t, int offset) {
        int size = BlockOption.szx2Size(t.szx);
        int end = Math.min(offset + size, t.upload.length);
        boolean more = end < t.upload.length;
        Request block = new Request(t.wire.getCode(), t.wire.getType());
        block.setOptions(new OptionSet(t.wire.getOptions()));
        block.getOptions().setBlock1(t.szx, more, offset / size);
        if (offset == 0) {
            block.getOptions().setSize1(t.upload.length);
            if (t.wire.getToken() != null) {
                block.setToken(t.wire.getToken()); // a Token given before sending (a proxy watches it) is kept
            }
        } else {
            block.setToken(exchange.getCurrentRequest().getToken());
        }
        block.setPayload(Arrays.copyOfRange(t.upload, offset, end));
        block.setDestinationContext(t.wire.getDestinationContext());
        t.offset = offset;
        TransmissionRelay.link(block, t.wire);
        exchange.setCurrentRequest(block);
        super.sendRequest(exchange, block);
    }

    @Override
    public void receiveResponse(Exchange exchange, Response response) {
        ClientTransfer t = clients.get(exchange);
        if (t != null && response.isDuplicate()) {
            return; // a block already acted on: it must not send the next one twice
        }
        if (t != null && t.upload != null) {
            BlockOption b1 = response.getOptions().getBlock1();
            if (response.getCode() == ResponseCode.CONTINUE && b1 != null) {
                int sent = BlockOption.szx2Size(t.szx);
                if (b1.getOffset() != t.offset || t.offset + sent >= t.upload.length) {
                    fail(exchange, "2.31 for a block not sent");
                    return;
                }
                int next = t.offset + sent;
                if (b1.getSzx() < t.szx) {
                    t.szx = b1.getSzx(); // the server asks for smaller blocks (RFC 7959 2.5); offsets stay aligned
                }
                sendBlock1(exchange, t, next);
                return;
            }
            t.upload = null; // a final response: the request body is done with
            if (b1 != null) {
                response.getOptions().removeBlock1();
            }
        }
        BlockOption b2 = response.getOptions().getBlock2();
        if (b2 == null || !applies(response) || exchange.getRequest().isMulticast() || response.getOptions().hasObserve()) {
            // a notification in outer blocks is not fetched: this layer never sends one so (see sendResponse)
            clients.remove(exchange);
            super.receiveResponse(exchange, response);
            return;
        }
        if (t == null) {
            t = new ClientTransfer(exchange.getCurrentRequest());
            clients.put(exchange, t);
        }
        if (t.download == null) {
            if (b2.getOffset() != 0) {
                fail(exchange, "outer Block2 response does not start at 0");
                return;
            }
            t.download = new ByteArrayOutputStream();
        } else if (b2.getOffset() != t.download.size()) {
            fail(exchange, "outer Block2 out of order");
            return;
        }
        t.download.write(response.getPayload(), 0, response.getPayloadSize());
        if (t.download.size() > maxBody) {
            fail(exchange, "response larger than MAX_RESOURCE_BODY_SIZE");
            return;
        }
        if (b2.isM()) {
            Request next = new Request(t.wire.getCode(), t.wire.getType());
            next.setOptions(new OptionSet(t.wire.getOptions()));
            next.getOptions().removeBlock1().removeSize1().removeSize2();
            next.getOptions().setBlock2(b2.getSzx(), false, b2.getNum() + 1);
            next.setToken(response.getToken());
            next.setDestinationContext(t.wire.getDestinationContext());
            TransmissionRelay.link(next, t.wire);
            exchange.setCurrentRequest(next);
            super.sendRequest(exchange, next);
            return;
        }
        clients.remove(exchange);
        Response whole = new Response(response.getCode());
        whole.setType(response.getType());
        whole.setMID(response.getMID());
        whole.setToken(response.getToken());
        whole.setOptions(new OptionSet(response.getOptions()));
        whole.getOptions().removeBlock2().removeSize2();
        whole.setPayload(t.download.toByteArray());
        whole.setSourceContext(response.getSourceContext());
        if (response.getApplicationRttNanos() != null) {
            whole.setApplicationRttNanos(response.getApplicationRttNanos());
        }
        super.receiveResponse(exchange, whole);
    }

    private void fail(Exchange exchange, String why) {
        LOG.debug("outer block-wise transfer failed: {}", why);
        clients.remove(exchange);
        exchange.getRequest().setSendError(new OscoreSendRefusedException("outer block-wise transfer failed: " + why));
        exchange.executeComplete();
    }

    /* ================================================================ server side */

    @Override
    public void receiveRequest(Exchange exchange, Request request) {
        if (!applies(request) || request.isMulticast()) {
            super.receiveRequest(exchange, request);
            return;
        }
        String key = key(request);
        keys.put(exchange, key);
        BlockOption b2 = request.getOptions().getBlock2();
        if (b2 != null && b2.getOffset() > 0) {
            serveBlock2(exchange, request, key, b2);
            return;
        }
        BlockOption b1 = request.getOptions().getBlock1();
        if (b1 == null) {
            if (b2 != null) {
                askedSzx.put(exchange, b2.getSzx());
            }
            super.receiveRequest(exchange, request);
            return;
        }
        Inbound in;
        if (b1.getOffset() == 0) {
            Integer size1 = request.getOptions().getSize1();
            if (size1 != null && size1 > maxBody) {
                tooLarge(exchange, request);
                return;
            }
            in = new Inbound();
            in.szx = b1.getSzx();
            uploads.put(key, in);
        } else {
            in = current(uploads, key);
            if (in == null || b1.getOffset() != in.body.size()) {
                uploads.remove(key);
                hopAnswer(exchange, request, new Response(ResponseCode.REQUEST_ENTITY_INCOMPLETE), null);
                return;
            }
        }
        if (in.body.size() + request.getPayloadSize() > maxBody) {
            uploads.remove(key);
            tooLarge(exchange, request);
            return;
        }
        if (b1.isM() && request.getPayloadSize() != b1.getSize()) {
            uploads.remove(key);
            hopAnswer(exchange, request, new Response(ResponseCode.BAD_REQUEST), "block of the wrong size");
            return;
        }
        in.body.write(request.getPayload(), 0, request.getPayloadSize());
        in.touched = System.nanoTime();
        if (b1.isM()) {
            Response cont = new Response(ResponseCode.CONTINUE);
            cont.getOptions().setBlock1(b1.getSzx(), true, b1.getNum());
            hopAnswer(exchange, request, cont, null);
            return;
        }
        uploads.remove(key);
        Request whole = new Request(request.getCode(), request.getType());
        whole.setMID(request.getMID());
        whole.setToken(request.getToken());
        whole.setOptions(new OptionSet(request.getOptions()));
        whole.getOptions().removeBlock1().removeSize1();
        whole.setPayload(in.body.toByteArray());
        whole.setSourceContext(request.getSourceContext());
        whole.setDestinationContext(request.getDestinationContext());
        whole.setNanoTimestamp(request.getNanoTimestamp());
        lastBlock1.put(exchange, new BlockOption(b1.getSzx(), false, b1.getNum()));
        exchange.setRequest(whole);
        exchange.setCurrentRequest(whole);
        super.receiveRequest(exchange, whole);
    }

    private void tooLarge(Exchange exchange, Request request) {
        Response r = new Response(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
        r.getOptions().setSize1(maxBody);
        hopAnswer(exchange, request, r, null);
    }

    /** An unprotected answer of this layer (hop by hop; the OSCORE layer never saw the request). */
    private void hopAnswer(Exchange exchange, Request request, Response r, String diagnostic) {
        if (diagnostic != null) {
            r.setPayload(diagnostic);
        }
        r.setDestinationContext(request.getSourceContext());
        super.sendResponse(exchange, r);
    }

    private void serveBlock2(Exchange exchange, Request request, String key, BlockOption b2) {
        Outbound out = current(downloads, key);
        if (out == null || b2.getOffset() >= out.body.length) {
            hopAnswer(exchange, request, new Response(ResponseCode.REQUEST_ENTITY_INCOMPLETE),
                    "no such outer block-wise transfer");
            return;
        }
        int szx = Math.min(b2.getSzx(), out.szx);
        out.touched = System.nanoTime();
        Response block = block(out, b2.getOffset(), szx);
        block.setDestinationContext(request.getSourceContext());
        if (!block.getOptions().getBlock2().isM()) {
            downloads.remove(key);
        }
        super.sendResponse(exchange, block);
    }

    @Override
    public void sendResponse(Exchange exchange, Response response) {
        BlockOption b1 = lastBlock1.remove(exchange);
        if (b1 != null) {
            response.getOptions().setBlock1(b1); // the final answer to an outer Block1 transfer (RFC 7959 2.3)
        }
        String key = keys.get(exchange);
        Integer asked = askedSzx.remove(exchange);
        if (key == null || !applies(response) || response.getOptions().hasObserve()
                || size(response, response.getPayloadSize()) <= maxMessageSize) {
            super.sendResponse(exchange, response);
            return;
        }
        if (response.getPayloadSize() > maxBody) {
            LOG.debug("protected response of {} bytes sent whole: above MAX_RESOURCE_BODY_SIZE", response.getPayloadSize());
            super.sendResponse(exchange, response);
            return;
        }
        int szx = fittingSzx(response, response.getPayloadSize(), false);
        if (asked != null) {
            szx = Math.min(szx, asked);
        }
        Outbound out = new Outbound(response, szx);
        Response first = block(out, 0, szx);
        first.setType(response.getType());
        first.setMID(response.getMID());
        first.setDestinationContext(response.getDestinationContext());
        if (first.getOptions().getBlock2().isM()) {
            downloads.put(key, out);
        }
        TransmissionRelay.link(first, response);
        super.sendResponse(exchange, first);
    }

    /** The block of {@code out} at {@code offset}, of size {@code szx}. */
    private static Response block(Outbound out, int offset, int szx) {
        int size = BlockOption.szx2Size(szx);
        int end = Math.min(offset + size, out.body.length);
        Response r = new Response(out.whole.getCode());
        r.setOptions(new OptionSet(out.whole.getOptions()));
        r.getOptions().removeSize2();
        if (offset > 0) {
            r.getOptions().removeBlock1();
        } else {
            r.getOptions().setSize2(out.body.length);
        }
        r.getOptions().setBlock2(szx, end < out.body.length, offset / size);
        r.setPayload(Arrays.copyOfRange(out.body, offset, end));
        return r;
    }

    /* ================================================================ shared */

    /**
     * Only OSCORE messages, and only with MAX_RESOURCE_BODY_SIZE above 0 (0 turns block-wise
     * assembly off, as in Californium): everything else is the inner block-wise layer's.
     */
    private boolean applies(Message m) {
        return maxBody > 0 && m.getOptions().hasOscore();
    }

    private <V extends Timed> V current(Map<String, V> map, String key) {
        synchronized (map) {
            long now = System.nanoTime();
            Iterator<V> it = map.values().iterator();
            while (it.hasNext()) {
                if (now - it.next().touched > lifetimeNanos) {
                    it.remove();
                }
            }
            return map.get(key);
        }
    }

    /** Peer and request OSCORE option: one per protected request of a peer (RFC 8613 Section 6.1). */
    private static String key(Request request) {
        InetSocketAddress peer = request.getSourceContext().getPeerAddress();
        return peer + "|" + dev.coterie.keystore.Hex.encode(request.getOptions().getOscore());
    }

    /**
     * The largest block size, up to the preferred one, whose blocks of {@code m} fit in
     * {@code MAX_MESSAGE_SIZE} with their Block and Size options (at least 16 bytes).
     */
    private int fittingSzx(Message m, int bodyLength, boolean request) {
        for (int szx = preferredSzx; szx > 0; szx--) {
            int size = BlockOption.szx2Size(szx);
            OptionSet o = new OptionSet(m.getOptions());
            int lastNum = Math.max(0, (bodyLength - 1) / size);
            if (request) {
                o.setBlock1(szx, true, lastNum).setSize1(bodyLength);
            } else {
                o.setBlock2(szx, true, lastNum).setSize2(bodyLength);
            }
            if (size(m, o, Math.min(size, bodyLength)) <= maxMessageSize) {
                return szx;
            }
        }
        return 0;
    }

    private int size(Message m, int payload) {
        return size(m, m.getOptions(), payload);
    }

    /** The datagram size of {@code m} with options {@code o} and a payload of {@code payload} bytes (RFC 7252 Section 3). */
    private int size(Message m, OptionSet o, int payload) {
        int size = 4 + (m.getToken() != null ? m.getToken().length() : tokenLimit);
        int previous = 0;
        for (Option opt : o.asSortedList()) {
            int delta = opt.getNumber() - previous;
            int len = opt.getLength();
            size += 1 + extended(delta) + extended(len) + len;
            previous = opt.getNumber();
        }
        return payload > 0 ? size + 1 + payload : size;
    }

    private static int extended(int v) {
        return v < 13 ? 0 : v < 269 ? 1 : 2;
    }
}
