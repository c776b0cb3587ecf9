package dev.coterie.bench;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.MulticastGuard;
import dev.coterie.oscore.ReplyFrom;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * A bounded closed loop of group requests for {@link GroupProxyBench}: {@code outstanding}
 * requests in flight at all times from one socket, each refilled as soon as every server has
 * answered it (or after {@link #GIVE_UP_NANOS}, counted as lost). Two ways to reach the same
 * servers, with the same requests and the same count outstanding:
 * <ul>
 * <li>{@link Mode#PROXY}: a unicast NON GET to the Coterie proxy with Proxy-Uri naming the
 * group and Multicast-Timeout 1; every relayed response must come from the proxy, carry
 * Reply-From naming the server its payload names, and the request's marker.</li>
 * <li>{@link Mode#DIRECT}: the client's own NON multicast GET to the group (Uri-Path, Uri-Query);
 * every response must come from the server its payload names and carry the marker.</li>
 * </ul>
 * Each request's Uri-Query is a marker of its own (its Token), unless {@link #query(String)} set
 * one for all: then every request is the same but for Token and Message ID, as a cache needs.
 * A response with Group-ETag (a proxy's answer from its cache alone) is counted in
 * {@link #withGroupEtag}; the responses to one request must not carry two different ones.
 * One thread sends and receives; the counters are read by others. Bounded by whoever calls
 * {@link #stop()}, which waits at most {@link #GIVE_UP_NANOS} for the requests in flight.
 */
final class GroupLoad {
    enum Mode { PROXY, DIRECT }

    static final long GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(3);
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();
    private static final int MULTICAST_TIMEOUT = 2;
    private static final int REPLY_FROM = 248;
    private static final int GROUP_ETAG = 24;

    private final Mode mode;
    private final InetSocketAddress proxy;
    private final InetSocketAddress group;
    private final String groupHost;
    private final List<InetSocketAddress> servers;
    private final byte[][] replyFrom;
    private final int all;
    private final MulticastSocket socket;
    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final UdpDataParser parser = new UdpDataParser(false, REGISTRY);
    private final long[] gen;
    private final int[] seen;
    private final long[] sentAt;
    private final boolean[] open;
    private final byte[][] etagOf;
    private int mid;
    final AtomicLong responses = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong lost = new AtomicLong();
    final AtomicLong bad = new AtomicLong();
    final AtomicLong late = new AtomicLong();
    /** Responses with exactly one Group-ETag: answers from a proxy's cache alone. */
    final AtomicLong withGroupEtag = new AtomicLong();
    private volatile String query;
    private volatile String badSample;
    private volatile boolean running;
    private Thread thread;

    /**
     * @param proxy the proxy (PROXY mode), or null
     * @param group the group's address and port, named {@code groupHost} in the Proxy-Uri
     * @param servers the members' unicast addresses: server i (1-based) is {@code servers.get(i - 1)}
     */
    GroupLoad(Mode mode, InetSocketAddress proxy, InetSocketAddress group, String groupHost, List<InetSocketAddress> servers,
              int outstanding) throws IOException {
        this.mode = mode;
        this.proxy = proxy;
        this.group = group;
        this.groupHost = groupHost;
        this.servers = List.copyOf(servers);
        this.all = (1 << servers.size()) - 1;
        replyFrom = new byte[servers.size()][];
        for (int i = 0; i < servers.size(); i++) {
            replyFrom[i] = ReplyFrom.of(servers.get(i)).encode();
        }
        if (mode == Mode.DIRECT) {
            MulticastGuard.checkDestination(group); // only inside a private namespace of loopback links
        }
        socket = new MulticastSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setNetworkInterface(NetworkInterface.getByName("lo"));
        socket.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
        socket.setReceiveBufferSize(1 << 20);
        gen = new long[outstanding];
        seen = new int[outstanding];
        sentAt = new long[outstanding];
        open = new boolean[outstanding];
        etagOf = new byte[outstanding][];
        mid = mode.ordinal() << 15;
    }

    /** The Uri-Query of every request from the next {@link #start()} on (null: a marker per request). */
    GroupLoad query(String q) {
        query = q;
        return this;
    }

    GroupLoad start() {
        running = true;
        thread = new Thread(this::loop, "group-load-" + mode.name().toLowerCase());
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /** Stops sending and waits for the requests in flight (at most the give-up time and a little). */
    void stop() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.NANOSECONDS.toMillis(GIVE_UP_NANOS) + 2000);
    }

    void close() {
        socket.close();
    }

    String problems() {
        String b = badSample;
        return "bad=" + bad.get() + (b == null ? "" : " (e.g. " + b + ")") + " lost=" + lost.get() + " late=" + late.get();
    }

    private void loop() {
        try {
            for (int s = 0; s < open.length; s++) {
                send(s);
            }
            byte[] buf = new byte[1500];
            socket.setSoTimeout(20);
            long lastSweep = System.nanoTime();
            long stoppedAt = 0;
            while (true) {
                long now = System.nanoTime();
                if (!running) {
                    if (stoppedAt == 0) {
                        stoppedAt = now;
                    }
                    if (!anyOpen() || now - stoppedAt > GIVE_UP_NANOS) {
                        return;
                    }
                }
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                    handle(Arrays.copyOf(buf, p.getLength()), (InetSocketAddress) p.getSocketAddress());
                } catch (SocketTimeoutException e) {
                    // sweep below
                }
                if (now - lastSweep > TimeUnit.MILLISECONDS.toNanos(100)) {
                    lastSweep = now;
                    for (int s = 0; s < open.length; s++) {
                        if (open[s] && now - sentAt[s] > GIVE_UP_NANOS) {
                            lost.incrementAndGet();
                            open[s] = false;
                            if (running) {
                                send(s);
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            if (!socket.isClosed()) {
                badSample = "socket: " + e;
            }
        }
    }

    private boolean anyOpen() {
        for (boolean o : open) {
            if (o) {
                return true;
            }
        }
        return false;
    }

    private static String marker(long token) {
        return "m=" + Long.toHexString(token);
    }

    private void send(int slot) throws IOException {
        long token = (++gen[slot] << 8) | slot;
        seen[slot] = 0;
        etagOf[slot] = null;
        sentAt[slot] = System.nanoTime();
        open[slot] = true;
        Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
        r.setMID(mid++ & 0xffff);
        r.setToken(Token.fromProvider(ByteBuffer.allocate(8).putLong(token).array()));
        InetSocketAddress to;
        String q = query != null ? query : marker(token);
        if (mode == Mode.PROXY) {
            r.getOptions().setProxyUri("coap://" + groupHost + "/load?" + q);
            r.getOptions().addOption(new Option(MULTICAST_TIMEOUT, 1L));
            to = proxy;
        } else {
            r.getOptions().addUriPath("load").addUriQuery(q);
            to = group;
        }
        byte[] b = serializer.getByteArray(r);
        socket.send(new DatagramPacket(b, b.length, to));
    }

    private void reject(String why) {
        bad.incrementAndGet();
        badSample = why;
    }

    private void handle(byte[] d, InetSocketAddress from) throws IOException {
        Message m;
        try {
            m = parser.parseMessage(d);
        } catch (RuntimeException e) {
            reject("unparsable datagram");
            return;
        }
        if (!(m instanceof Response r) || r.getType() != CoAP.Type.NON || r.getCode() != ResponseCode.CONTENT
                || r.getTokenBytes().length != 8) {
            reject("not a NON 2.05 with our Token: " + m);
            return;
        }
        long token = ByteBuffer.wrap(r.getTokenBytes()).getLong();
        int slot = (int) (token & 0xff);
        if (slot >= open.length || (token >>> 8) != gen[slot] || !open[slot]) {
            late.incrementAndGet(); // the answer to a request given up (or a stranger's)
            return;
        }
        String p = r.getPayloadString();
        int space = p.indexOf(' ');
        int server;
        try {
            server = p.startsWith("s") && space > 1 ? Integer.parseInt(p.substring(1, space)) : 0;
        } catch (NumberFormatException e) {
            server = 0;
        }
        String q = query != null ? query : marker(token);
        if (server < 1 || server > servers.size() || !p.substring(space + 1).equals(q)) {
            reject("payload '" + p + "' for " + q);
            return;
        }
        byte[] etag = null;
        if (mode == Mode.PROXY) {
            Option rf = null;
            int etags = 0;
            for (Option o : r.getOptions().getOthers()) {
                if (o.getNumber() == REPLY_FROM) {
                    rf = o;
                } else if (o.getNumber() == GROUP_ETAG) {
                    etag = o.getValue();
                    etags++;
                }
            }
            if (etags > 1 || etag != null && etagOf[slot] != null && !Arrays.equals(etag, etagOf[slot])) {
                reject(etags > 1 ? "a response with " + etags + " Group-ETags" : "two Group-ETags for one request");
                return;
            }
            if (!from.equals(proxy) || rf == null || !Arrays.equals(rf.getValue(), replyFrom[server - 1])) {
                reject("relayed response of s" + server + " from " + from + " with Reply-From "
                        + (rf == null ? "none" : dev.coterie.keystore.Hex.encode(rf.getValue())));
                return;
            }
        } else if (!from.equals(servers.get(server - 1))) {
            reject("response of s" + server + " from " + from);
            return;
        }
        int bit = 1 << (server - 1);
        if ((seen[slot] & bit) != 0) {
            reject("s" + server + " answered twice");
            return;
        }
        seen[slot] |= bit;
        if (etag != null) {
            etagOf[slot] = etag;
            withGroupEtag.incrementAndGet();
        }
        responses.incrementAndGet();
        if (seen[slot] == all) {
            completed.incrementAndGet();
            open[slot] = false;
            if (running) {
                send(slot);
            }
        }
    }
}
