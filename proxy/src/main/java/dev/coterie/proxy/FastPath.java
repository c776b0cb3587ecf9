package dev.coterie.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.serialization.DataParser;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.RawData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's fast path for its commonest request: a NON GET or FETCH without Observe,
 * block-wise or a hop layer (plain CoAP, or end-to-end OSCORE that passes through with visible
 * proxy options, a deterministic request among them). Such a datagram is parsed on the thread
 * that received it and handed to the {@link Forwarder} on an exchange of its own, without
 * Californium's stack: no deduplication (the methods are safe, so a duplicate is only forwarded
 * or served again), no matcher, no executor hand-off. Its answers are serialized straight onto
 * the front socket as NON with the client's Token; its upstream request leaves from a socket of
 * the fast path's own, NON, with a fresh random Token and Message ID, and the answer is matched
 * by Token and by the origin's address. What the forwarder decides (access, Hop-Limit, cache,
 * limits, errors, metrics) is the same as for a request that took the stack.
 *
 * <p>Message IDs: the front endpoint's own stay below {@link #FIRST_MID} (its configuration's
 * MULTICAST_BASE_MID), the fast path's answers use the upper half, so the two never collide.
 */
final class FastPath {
    private static final Logger LOG = LoggerFactory.getLogger(FastPath.class);
    /** The first Message ID of the fast path's answers; the front endpoint's stay below it. */
    static final int FIRST_MID = 32768;
    private static final Executor DIRECT = Runnable::run;

    private final Forwarder forwarder;
    private final ForwardTarget.Numbers numbers;
    private final DataParser parser;
    private final DataParser upstreamParser;
    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final Upstream upstream;
    private final AtomicLong taken = new AtomicLong();

    /**
     * @param upstreamParsing how answers from upstream are parsed: as the stack's upstream endpoint
     *     does (unrecognised options kept for the forwarder to judge, malformed ones reported)
     */
    FastPath(Forwarder forwarder, ForwardTarget.Numbers numbers, org.eclipse.californium.core.coap.option.OptionRegistry registry,
             dev.coterie.oscore.ResponseParsing upstreamParsing, InetSocketAddress upstreamBind, long timeoutMs) throws IOException {
        this.forwarder = forwarder;
        this.numbers = numbers;
        this.parser = new UdpDataParser(false, registry);
        this.upstreamParser = upstreamParsing.udpParser(false, registry, () -> { });
        this.upstream = new Upstream(upstreamBind, TimeUnit.MILLISECONDS.toNanos(timeoutMs));
    }

    /** The answering side for one front socket; its connector is set once the front endpoint exists. */
    Front front() {
        return new Front();
    }

    /** Whether an exchange came in through the fast path (its upstream request then takes {@link #upstream()}). */
    static boolean isFast(Exchange exchange) {
        return exchange.getEndpoint() instanceof Front;
    }

    Endpoint upstream() {
        return upstream;
    }

    /** Requests that took the fast path (for tests and metrics). */
    long taken() {
        return taken.get();
    }

    void start() {
        upstream.start();
    }

    void close() {
        upstream.destroy();
    }

    /**
     * Offers one datagram the front socket received: true when the fast path handled it, false
     * when it goes to the stack as before (anything but a plain NON GET or FETCH to a unicast
     * address, and anything that does not parse).
     */
    boolean offer(RawData raw, Front front) {
        byte[] b = raw.bytes;
        if (b.length < 4 || raw.isMulticast() || front.connector == null) {
            return false;
        }
        int first = b[0] & 0xff;
        int code = b[1] & 0xff;
        if (first >> 6 != 1 || ((first >> 4) & 3) != CoAP.Type.NON.value || (first & 0x0f) > 8
                || (code != CoAP.Code.GET.value && code != CoAP.Code.FETCH.value)) {
            return false;
        }
        Message m;
        try {
            m = parser.parseMessage(raw);
        } catch (RuntimeException e) {
            return false; // the stack answers a malformed request as it always has
        }
        if (!(m instanceof Request r) || !eligible(r.getOptions(), r)) {
            return false;
        }
        taken.incrementAndGet();
        Exchange exchange = new Exchange(r, r.getSourceContext().getPeerAddress(), Exchange.Origin.REMOTE, DIRECT);
        exchange.setEndpoint(front);
        try {
            forwarder.deliver(exchange);
        } catch (RuntimeException e) {
            LOG.warn("fast path: {} handling a request; it is dropped", e.getClass().getSimpleName());
        }
        return true;
    }

    /** No Observe, no block-wise, no Echo challenge to answer, and OSCORE only end to end with visible proxy options. */
    private boolean eligible(OptionSet o, Request r) {
        if (o.hasObserve() || o.hasBlock1() || o.hasBlock2() || o.hasSize1() || o.hasSize2() || forwarder.groupBound(r)) {
            return false; // a group request is answered by several responses, which the stack's exchanges carry
        }
        return !o.hasOscore() || ForwardTarget.hasProxyOptions(r, numbers);
    }

    /** Fresh 8-byte Tokens from a strong generator: an off-path host must not guess one to inject an answer. */
    private static final ThreadLocal<SecureRandom> TOKENS = ThreadLocal.withInitial(SecureRandom::new);

    /** The front side: the answers of fast-path exchanges, NON, with the client's Token. */
    final class Front extends EndpointAdapter {
        private volatile Connector connector;

        void connector(Connector c) {
            connector = c;
        }

        @Override
        public void sendResponse(Exchange exchange, Response response) {
            Request req = exchange.getCurrentRequest();
            response.setType(CoAP.Type.NON);
            // the client's own Message ID, folded into the upper half: per client, across restarts too, with no state;
            // it repeats only after 32768 of that client's requests (its MIDs m and m ^ 0x8000 fold to one), as a
            // per-client counter would; the stack's stay in the lower half
            response.setMID(FIRST_MID | (req.getMID() & (FIRST_MID - 1)));
            response.setToken(req.getToken()); // the destination is the request's source: Exchange.sendResponse set it
            Connector c = connector;
            try {
                c.send(serializer.serializeResponse(response));
            } catch (RuntimeException e) {
                LOG.debug("fast path: could not serialize or send an answer: {}", e.getClass().getSimpleName());
            }
        }

        @Override
        public InetSocketAddress getAddress() {
            Connector c = connector;
            return c == null ? null : c.getAddress();
        }
    }

    /** The upstream side: requests out of a socket of its own, answers matched by Token and origin address. */
    private final class Upstream extends EndpointAdapter {
        private final DatagramChannel channel;
        private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
        /** The request in flight by its Message ID (ours, sequential): an RST names only that. */
        private final java.util.concurrent.atomic.AtomicReferenceArray<Pending> byMid =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(65536);
        private final long timeoutNanos;
        private final AtomicInteger mid = new AtomicInteger(new SecureRandom().nextInt(65536));
        private volatile Thread reader;

        Upstream(InetSocketAddress bind, long timeoutNanos) throws IOException {
            this.timeoutNanos = timeoutNanos;
            channel = DatagramChannel.open();
            try {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
                channel.bind(new InetSocketAddress(bind.getAddress(), 0));
            } catch (IOException e) {
                channel.close();
                throw new ListenFailure("upstream_bind", new InetSocketAddress(bind.getAddress(), 0), e);
            }
        }

        @Override
        public void start() {
            Thread t = new Thread(this::read, "coterie-proxy-fast-upstream");
            t.setDaemon(true);
            reader = t;
            t.start();
            Thread s = new Thread(this::sweep, "coterie-proxy-fast-timeouts");
            s.setDaemon(true);
            s.start();
        }

        /** Every 50 ms: the requests past their deadline time out (the forwarder answers 5.04). */
        private void sweep() {
            while (channel.isOpen()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (java.util.Map.Entry<Long, Pending> e : pending.entrySet()) {
                    Pending p = e.getValue();
                    if (now - p.deadline() > 0 && forget(p)) {
                        p.request().setTimedOut(true);
                    }
                }
            }
        }

        @Override
        public void destroy() {
            try {
                channel.close();
            } catch (IOException e) {
                // closing
            }
        }

        @Override
        public InetSocketAddress getAddress() {
            try {
                return (InetSocketAddress) channel.getLocalAddress();
            } catch (IOException e) {
                return null;
            }
        }

        @Override
        public void sendRequest(Request up) {
            // the forwarder's Token (8 random bytes, watched for unusable answers), or one of ours
            Token given = up.getToken();
            byte[] tb = given != null && given.length() == 8 ? given.getBytes()
                    : ByteBuffer.allocate(8).putLong(TOKENS.get().nextLong()).array();
            long t = ByteBuffer.wrap(tb).getLong();
            if (given == null || given.length() != 8) {
                up.setToken(Token.fromProvider(tb));
            }
            int m = mid.getAndIncrement() & 0xffff;
            up.setMID(m);
            InetSocketAddress to = up.getDestinationContext().getPeerAddress();
            byte[] bytes;
            try {
                bytes = serializer.serializeRequest(up).bytes;
            } catch (RuntimeException e) {
                up.setSendError(e); // the forwarder answers 5.02 and frees its slot
                return;
            }
            Pending entry = new Pending(up, System.nanoTime() + timeoutNanos, t);
            pending.put(t, entry);
            byMid.set(m, entry);
            up.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onCancel() {
                    forget(entry);
                }
            });
            try {
                channel.send(ByteBuffer.wrap(bytes), to);
                up.setSent(true);
            } catch (IOException e) {
                forget(entry);
                up.setSendError(e);
            }
        }

        /** Removes {@code p} from both indexes; true if this call did (the one that acts on its answer). */
        boolean forget(Pending p) {
            byMid.compareAndSet(p.request().getMID(), p, null);
            return pending.remove(p.token(), p);
        }

        private void reset(int mid, InetSocketAddress from) {
            resetFrom(this, mid, from);
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (channel.isOpen()) {
                SocketAddress from;
                try {
                    buf.clear();
                    from = channel.receive(buf);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    continue;
                }
                try {
                    answer(Arrays.copyOf(buf.array(), buf.position()), (InetSocketAddress) from);
                } catch (RuntimeException e) {
                    LOG.debug("fast path: dropping an upstream datagram: {}", e.getClass().getSimpleName());
                }
            }
        }

        private void answer(byte[] d, InetSocketAddress from) throws RuntimeException {
            if (d.length == 4 && ((d[0] >> 4) & 3) == CoAP.Type.RST.value && (d[1] & 0xff) == 0) {
                reset(((d[2] & 0xff) << 8) | (d[3] & 0xff), from);
                return;
            }
            if (d.length < 12 || (d[0] & 0x0f) != 8) {
                return; // every Token of ours has 8 bytes
            }
            long t = ByteBuffer.wrap(d, 4, 8).getLong();
            Pending entry = pending.get(t);
            if (entry == null || !from.equals(entry.request().getDestinationContext().getPeerAddress())) {
                return; // not ours, late, or from another address than the request went to
            }
            Request up = entry.request();
            int type = (d[0] >> 4) & 3;
            if (type == CoAP.Type.RST.value) {
                if (forget(entry)) {
                    up.setRejected(true);
                }
                return;
            }
            if ((d[1] & 0xff) == 0) {
                return; // an empty ACK or CON: nothing for a NON request
            }
            Message m = upstreamParser.parseMessage(d);
            if (!(m instanceof Response r)) {
                return;
            }
            if (r.getType() == CoAP.Type.CON) {
                // a separate response: acknowledged, then relayed
                EmptyMessage ack = EmptyMessage.newACK(r);
                ack.setToken(Token.EMPTY);
                ack.setDestinationContext(new AddressEndpointContext(from));
                try {
                    channel.send(ByteBuffer.wrap(serializer.serializeEmptyMessage(ack).bytes), from);
                } catch (IOException e) {
                    // the origin retransmits; the answer below still goes on
                }
            }
            if (!forget(entry)) {
                return;
            }
            r.setSourceContext(new AddressEndpointContext(from));
            r.setBytes(d);
            up.setResponse(r);
        }
    }

    /** An RST names the Message ID only: found in O(1) by it, and only from the address the request went to. */
    private void resetFrom(Upstream u, int mid, InetSocketAddress from) {
        Pending p = u.byMid.get(mid);
        if (p == null || !from.equals(p.request().getDestinationContext().getPeerAddress())) {
            return; // nothing of ours in flight with that Message ID to that address
        }
        if (u.forget(p)) {
            p.request().setRejected(true);
        }
    }

    /** An upstream request in flight and when it times out. */
    private record Pending(Request request, long deadline, long token) {
    }
}
