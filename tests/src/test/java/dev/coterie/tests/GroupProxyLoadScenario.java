package dev.coterie.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import org.eclipse.californium.elements.config.Configuration;

/**
 * Group forwarding under load, inside a private network namespace ({@link PrivateNetwork#IPV4}):
 * {@value #SERVERS} raw CoAP servers in the group 224.0.1.187:5683 on the namespace's loopback,
 * each answering from its own unicast port 127.0.0.1:{@value #SERVER_BASE_PORT}+i with a payload
 * that names it and echoes the request's Uri-Query (a marker unique to the client, the round and
 * the request); a Coterie proxy in a JVM of its own ({@link ProxyProcess}), so that its heap is
 * measured apart from the clients'; and many clients, each on a UDP socket of its own, each
 * keeping a few group requests in flight through the proxy.
 *
 * <p>Every client uses the same Token sequence: two clients' requests in flight at the proxy
 * often carry the same Token, so a proxy that kept collections by Token alone would cross their
 * responses, and the marker check would see it. Every response is checked as it arrives: a
 * response, NON 2.05, a Token of this client's requests, the marker of exactly that request, and
 * a Reply-From equal to the CRI of the server the payload names. After the last request a quiet
 * period longer than T' catches anything relayed late or twice.
 *
 * <p>A warm-up round (which also fills every bounded structure of the proxy, see
 * {@link #proxyYaml}, and grows its hash tables, see {@link #multicastTimeout}), then the
 * measured round(s); the proxy's used heap after full collections is taken after each, and the
 * growth from the warm-up to the last is checked; then, as that check's positive control, the
 * proxy's JVM is made to keep one smallest object per measured request, and the same check must
 * see it. Prints "CHECK ok NAME" per check, a "FIGURES"
 * line, and "SCENARIO OK" when all passed. Arguments: {@code [clients [warm-up requests per
 * client [measured requests per client [in flight per client [measured rounds]]]]]}.
 */
public final class GroupProxyLoadScenario {
    static final InetAddress GROUP = GroupProxyScenario.GROUP;
    static final int GROUP_PORT = GroupProxyScenario.GROUP_PORT;
    static final int PROXY_PORT = 5610;
    static final int SERVERS = 5;
    static final int SERVER_BASE_PORT = 5800;
    static final int ALL_SERVERS = (1 << SERVERS) - 1;
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();
    private static final int MT = 2;
    private static final int REPLY_FROM = 248;
    /** A request still short of its responses this long after it was sent is given up (counted as missing responses). */
    private static final long GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(4);
    /**
     * Multicast-Timeout T' of a round's requests: 2 s in the warm-up, 1 s after. The proxy's hash
     * tables grow to the most entries they ever held and never shrink: those of the collections
     * (by Token, by client, relayed Message IDs, the timer's queue) with the collections open at
     * once, about rate x T'; the front endpoint's weak-keyed exchange maps with the exchanges
     * not yet collected, which for exchanges that reached the old generation means all of them
     * since the last full collection, so with a round's length. A warm-up that keeps its
     * collections twice as long and has more requests than the measured round grows every one of
     * them past what the measured round needs: a table doubling there (100 to 250 KB at this
     * load, seen with an equal warm-up) cannot pass for retained state.
     */
    static long multicastTimeout(int round) {
        return round == 0 ? 2 : 1;
    }

    /** After a round: 1 s longer than its T', so that anything relayed late or twice still arrives and is counted. */
    static int quietMillis(int round) {
        return (int) (multicastTimeout(round) * 1000 + 1000);
    }
    /**
     * The bounds of the proxy's per-request state that legitimately outlives a collection: the
     * front endpoint's deduplication entries and the released group Tokens. Both are well below
     * the warm-up's request count, so both are full at either heap measurement.
     */
    static final int DEDUP_ENTRIES = 256;
    static final int TOKENS_REMEMBERED = 256;
    /** The smallest object HotSpot allocates on a 64-bit JVM (12-byte header, padded to 8). */
    static final long SMALLEST_OBJECT_BYTES = 16;
    private static final List<String> failures = new ArrayList<>();

    private GroupProxyLoadScenario() {
    }

    private static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static void main(String[] args) {
        try {
            int clients = args.length > 0 ? Integer.parseInt(args[0]) : 50;
            int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 400;
            int measured = args.length > 2 ? Integer.parseInt(args[2]) : 300;
            int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 3;
            int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 1;
            run(clients, warmup, measured, inFlight, rounds);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    static void check(boolean ok, String name, Object detail) {
        if (ok) {
            System.out.println("CHECK ok   " + name);
        } else {
            System.out.println("CHECK FAIL " + name + ": " + detail);
            failures.add(name);
        }
    }

    /** Reply-From of server {@code i}: the CRI of 127.0.0.1:(base + i), written out as in {@link GroupProxyScenario}. */
    static byte[] replyFromOf(int server) {
        return Hex.decode(GroupProxyScenario.replyFromHex(SERVER_BASE_PORT + server));
    }

    // ------------------------------------------------------------------ servers

    /** A raw group member: reads the group, answers NON 2.05 "s&lt;i&gt; &lt;Uri-Query&gt;" from its unicast socket. */
    static final class Server implements AutoCloseable {
        final int index;
        final DatagramSocket unicast;
        final MulticastSocket group;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong malformed = new AtomicLong();
        private final Thread thread;
        private volatile boolean closed;
        private int mid;

        Server(int index) throws Exception {
            this.index = index;
            unicast = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), SERVER_BASE_PORT + index));
            group = new MulticastSocket(null);
            group.setReuseAddress(true);
            group.setReceiveBufferSize(1 << 20);
            group.bind(new InetSocketAddress(GROUP_PORT));
            group.joinGroup(new InetSocketAddress(GROUP, GROUP_PORT), NetworkInterface.getByName("lo"));
            mid = index << 12;
            thread = new Thread(this::serve, "group-server-" + index);
            thread.setDaemon(true);
            thread.start();
        }

        private void serve() {
            byte[] buf = new byte[1500];
            UdpDataParser parser = new UdpDataParser(false, REGISTRY);
            UdpDataSerializer serializer = new UdpDataSerializer();
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    group.receive(p);
                } catch (Exception e) {
                    return;
                }
                try {
                    Message m = parser.parseMessage(Arrays.copyOf(buf, p.getLength()));
                    if (!(m instanceof Request r)) {
                        continue;
                    }
                    requests.incrementAndGet();
                    Response resp = new Response(ResponseCode.CONTENT);
                    resp.setType(CoAP.Type.NON);
                    resp.setMID(mid++ & 0xffff);
                    resp.setToken(r.getToken());
                    resp.getOptions().setContentFormat(0);
                    resp.setPayload("s" + index + " " + String.join("&", r.getOptions().getUriQuery()));
                    byte[] b = serializer.getByteArray(resp);
                    unicast.send(new DatagramPacket(b, b.length, p.getSocketAddress()));
                } catch (Exception e) {
                    malformed.incrementAndGet();
                }
            }
        }

        @Override
        public void close() {
            closed = true;
            unicast.close();
            group.close();
        }
    }

    // ------------------------------------------------------------------ what a client checks

    /** How one datagram that reached a client was judged. */
    enum Verdict {
        /** A correct response, not the last one its request waits for. */
        OK,
        /** A correct response, the last of the request's {@value #SERVERS}. */
        COMPLETED,
        /** A correct response from a server that already answered this request (relayed twice). */
        DUPLICATE,
        /** A Token of this client's, but the marker of another request (another client's, or another of this one's). */
        CROSSED,
        /** A Token that is none of this client's requests. */
        FOREIGN,
        /** Reply-From missing, or not the CRI of the server that the payload names. */
        BAD_REPLY_FROM,
        /** Not a NON 2.05 response, or a payload that names no server. */
        BAD_MESSAGE
    }

    /**
     * One client's record of its requests and the judge of every datagram it gets: the loss and
     * crossing detector. Tokens are [round, seq high, seq low], the same for every client; the
     * marker in the Uri-Query is {@code m=CLIENT.ROUND.SEQ.NONCE}, NONCE random per request.
     */
    static final class Tally {
        final int client;
        final int[][] nonce;
        final int[][] seen;
        final int[][] count;
        final long[] verdicts = new long[Verdict.values().length];
        final List<String> samples = new ArrayList<>();

        Tally(int client, int[] perRound, SecureRandom random) {
            this.client = client;
            nonce = new int[perRound.length][];
            seen = new int[perRound.length][];
            count = new int[perRound.length][];
            for (int r = 0; r < perRound.length; r++) {
                nonce[r] = new int[perRound[r]];
                seen[r] = new int[perRound[r]];
                count[r] = new int[perRound[r]];
                for (int s = 0; s < perRound[r]; s++) {
                    nonce[r][s] = random.nextInt() & 0x7fffffff;
                }
            }
        }

        static byte[] token(int round, int seq) {
            return new byte[] {(byte) round, (byte) (seq >> 8), (byte) seq};
        }

        String marker(int round, int seq) {
            return marker(client, round, seq, nonce[round][seq]);
        }

        static String marker(int client, int round, int seq, int nonce) {
            return "m=" + client + "." + round + "." + seq + "." + Integer.toHexString(nonce);
        }

        Verdict judge(Message m) {
            Verdict v = judge0(m);
            verdicts[v.ordinal()]++;
            if (v != Verdict.OK && v != Verdict.COMPLETED && samples.size() < 3) {
                samples.add(v + ": " + m + " " + (m instanceof Response r ? r.getPayloadString() : ""));
            }
            return v;
        }

        private Verdict judge0(Message m) {
            if (!(m instanceof Response r) || r.getType() != CoAP.Type.NON || r.getCode() != ResponseCode.CONTENT) {
                return Verdict.BAD_MESSAGE;
            }
            byte[] t = r.getTokenBytes();
            if (t.length != 3 || (t[0] & 0xff) >= seen.length) {
                return Verdict.FOREIGN;
            }
            int round = t[0] & 0xff;
            int seq = ((t[1] & 0xff) << 8) | (t[2] & 0xff);
            if (seq >= seen[round].length) {
                return Verdict.FOREIGN;
            }
            String p = r.getPayloadString();
            int space = p.indexOf(' ');
            int server;
            try {
                server = p.startsWith("s") && space > 1 ? Integer.parseInt(p.substring(1, space)) : -1;
            } catch (NumberFormatException e) {
                server = -1;
            }
            if (server < 1 || server > SERVERS) {
                return Verdict.BAD_MESSAGE;
            }
            if (!p.substring(space + 1).equals(marker(round, seq))) {
                return Verdict.CROSSED;
            }
            Option rf = null;
            for (Option o : r.getOptions().getOthers()) {
                if (o.getNumber() == REPLY_FROM) {
                    rf = o;
                }
            }
            if (rf == null || !Arrays.equals(rf.getValue(), replyFromOf(server))) {
                return Verdict.BAD_REPLY_FROM;
            }
            count[round][seq]++;
            int bit = 1 << (server - 1);
            if ((seen[round][seq] & bit) != 0) {
                return Verdict.DUPLICATE;
            }
            seen[round][seq] |= bit;
            return seen[round][seq] == ALL_SERVERS ? Verdict.COMPLETED : Verdict.OK;
        }

        /** Requests of {@code round} that did not get exactly one response from each server and nothing else. */
        int notExactlyOnePerServer(int round) {
            int bad = 0;
            for (int s = 0; s < seen[round].length; s++) {
                if (seen[round][s] != ALL_SERVERS || count[round][s] != SERVERS) {
                    bad++;
                }
            }
            return bad;
        }

        long responses(int round) {
            long n = 0;
            for (int c : count[round]) {
                n += c;
            }
            return n;
        }

        long verdict(Verdict v) {
            return verdicts[v.ordinal()];
        }
    }

    /** The response that server {@code server} would give to request (round, seq) of {@code client}, as relayed. */
    static Response relayed(byte[] token, int server, String marker, byte[] replyFrom) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(CoAP.Type.NON);
        r.setMID(1);
        r.setToken(Token.fromProvider(token));
        r.setPayload("s" + server + " " + marker);
        if (replyFrom != null) {
            r.getOptions().addOption(new Option(REPLY_FROM, replyFrom));
        }
        return r;
    }

    /**
     * Positive control of the detector, through the same {@link Tally#judge} the run uses: a
     * correct set of responses passes, and each injected fault is flagged as what it is.
     */
    private static void detectorControl() {
        SecureRandom random = new SecureRandom();
        Tally a = new Tally(3, new int[] {10}, random);
        Tally b = new Tally(4, new int[] {10}, random);
        byte[] t7 = Tally.token(0, 7);
        List<Verdict> good = new ArrayList<>();
        for (int s = 1; s <= SERVERS; s++) {
            good.add(a.judge(relayed(t7, s, a.marker(0, 7), replyFromOf(s))));
        }
        check(good.equals(List.of(Verdict.OK, Verdict.OK, Verdict.OK, Verdict.OK, Verdict.COMPLETED)),
                "GPX_05 positive control: one correct response from each server completes a request", good);
        // the same Token (every client uses the same sequence) with the other client's marker: crossed
        Verdict crossed = a.judge(relayed(t7, 2, b.marker(0, 7), replyFromOf(2)));
        // this client's own Token 7 with the marker of its request 8
        Verdict ownCrossed = a.judge(relayed(t7, 2, a.marker(0, 8), replyFromOf(2)));
        check(crossed == Verdict.CROSSED && ownCrossed == Verdict.CROSSED,
                "GPX_05 positive control: the detector flags a response crossed from another client (same Token) or request",
                crossed + " " + ownCrossed);
        Verdict foreign = a.judge(relayed(Tally.token(0, 12), 1, a.marker(0, 1), replyFromOf(1)));
        Verdict foreignRound = a.judge(relayed(Tally.token(5, 1), 1, a.marker(0, 1), replyFromOf(1)));
        check(foreign == Verdict.FOREIGN && foreignRound == Verdict.FOREIGN,
                "GPX_05 positive control: the detector flags a Token that is none of the client's", foreign + " " + foreignRound);
        Verdict wrongRf = a.judge(relayed(Tally.token(0, 3), 1, a.marker(0, 3), replyFromOf(2)));
        Verdict noRf = a.judge(relayed(Tally.token(0, 3), 1, a.marker(0, 3), null));
        check(wrongRf == Verdict.BAD_REPLY_FROM && noRf == Verdict.BAD_REPLY_FROM,
                "GPX_05 positive control: the detector flags a Reply-From that is not the answering server's, or none",
                wrongRf + " " + noRf);
        Verdict dup = a.judge(relayed(t7, 4, a.marker(0, 7), replyFromOf(4)));
        for (int s = 1; s <= SERVERS - 1; s++) {
            a.judge(relayed(Tally.token(0, 5), s, a.marker(0, 5), replyFromOf(s))); // request 5: one server short
        }
        // requests 0-9: only 7 was answered by all, and it got one extra; 5 is one short; the rest got nothing
        check(dup == Verdict.DUPLICATE && a.notExactlyOnePerServer(0) == 10,
                "GPX_05 positive control: the detector flags a response relayed twice, and requests missing responses",
                dup + " " + a.notExactlyOnePerServer(0));
    }

    // ------------------------------------------------------------------ clients

    /** One client: its own socket, {@code inFlight} group requests outstanding, every datagram judged. */
    static final class Client implements AutoCloseable {
        final Tally tally;
        final DatagramSocket socket;
        private final InetSocketAddress proxy;
        private final UdpDataSerializer serializer = new UdpDataSerializer();
        private final UdpDataParser parser = new UdpDataParser(false, REGISTRY);
        private final int inFlight;
        long givenUp;
        private int mid;

        Client(Tally tally, InetSocketAddress proxy, int inFlight) throws Exception {
            this.tally = tally;
            this.proxy = proxy;
            this.inFlight = inFlight;
            socket = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), 0));
            socket.setReceiveBufferSize(1 << 18);
            mid = tally.client << 10;
        }

        private void send(int round, int seq) throws Exception {
            Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
            r.setMID(mid++ & 0xffff);
            r.setToken(Token.fromProvider(Tally.token(round, seq)));
            r.getOptions().setProxyUri("coap://lights.example/load?" + tally.marker(round, seq));
            r.getOptions().addOption(new Option(MT, multicastTimeout(round)));
            byte[] b = serializer.getByteArray(r);
            socket.send(new DatagramPacket(b, b.length, proxy));
        }

        /** Runs one round of {@code n} requests, then listens through the quiet period; bounded by {@code deadline}. */
        void round(int round, long deadline) throws Exception {
            int n = tally.seen[round].length;
            long[] sentAt = new long[n];
            boolean[] open = new boolean[n];
            int next = 0;
            int done = 0;
            for (; next < Math.min(inFlight, n); next++) {
                sentAt[next] = System.nanoTime();
                open[next] = true;
                send(round, next);
            }
            byte[] buf = new byte[1500];
            long lastSweep = System.nanoTime();
            long quietUntil = Long.MAX_VALUE;
            while (true) {
                long now = System.nanoTime();
                if (done == n && quietUntil == Long.MAX_VALUE) {
                    quietUntil = now + TimeUnit.MILLISECONDS.toNanos(quietMillis(round));
                }
                if (now - quietUntil >= 0 || now - deadline >= 0) {
                    return;
                }
                socket.setSoTimeout(50);
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                int finished = -1;
                try {
                    socket.receive(p);
                    Message m;
                    try {
                        m = parser.parseMessage(Arrays.copyOf(buf, p.getLength()));
                    } catch (RuntimeException e) {
                        m = null;
                    }
                    if (tally.judge(m) == Verdict.COMPLETED && m.getTokenBytes()[0] == round) {
                        finished = ((m.getTokenBytes()[1] & 0xff) << 8) | (m.getTokenBytes()[2] & 0xff);
                    }
                } catch (SocketTimeoutException e) {
                    // sweep below
                }
                if (finished >= 0 && open[finished]) {
                    open[finished] = false;
                    done++;
                    if (next < n) {
                        sentAt[next] = System.nanoTime();
                        open[next] = true;
                        send(round, next++);
                    }
                }
                if (System.nanoTime() - lastSweep > TimeUnit.MILLISECONDS.toNanos(250)) {
                    lastSweep = System.nanoTime();
                    for (int s = 0; s < next; s++) {
                        if (open[s] && lastSweep - sentAt[s] > GIVE_UP_NANOS) {
                            open[s] = false; // short of responses: counted at the end, the window goes on
                            givenUp++;
                            done++;
                            if (next < n) {
                                sentAt[next] = System.nanoTime();
                                open[next] = true;
                                send(round, next++);
                            }
                        }
                    }
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    // ------------------------------------------------------------------ the proxy's own JVM

    /**
     * The proxy configuration: the group, unauthenticated clients allowed to it, limits far
     * above the load (every client shares one rate bucket and one per-client collection cap, its
     * address 127.0.0.1, so max_collections_per_client is lifted past the load's concurrency), and the two
     * bounds of {@link #DEDUP_ENTRIES} and {@link #TOKENS_REMEMBERED} (the latter here).
     */
    static String proxyYaml(int clients) {
        return String.join("\n",
                "listen: [\"127.0.0.1:" + PROXY_PORT + "\"]",
                "forward_proxy: true",
                "groups:",
                "  - {name: lights, host: lights.example, address: 224.0.1.187, port: 5683, interface: lo}",
                "group_forwarding: {tokens_remembered: " + TOKENS_REMEMBERED + ", max_collections_per_client: 100000}",
                "limits: {exchanges: 100000, requests_per_second: 1000000, burst: 1000000, clients_tracked: " + (clients + 16) + "}",
                "cache: {enabled: false}",
                "access:",
                "  - client: unauthenticated",
                "    allow: [{group: lights}]",
                "");
    }

    /**
     * The proxy under test in a JVM of its own: {@code ProxyProcess YAML-FILE}. Prints {@code READY}
     * once it listens; on the line {@code stats} prints {@code STATS <used heap after full
     * collections> <group collections> <responses relayed> <responses dropped> <exchanges in
     * flight>}; stops at the end of its input, and after 5 minutes in any case.
     */
    public static final class ProxyProcess {
        private ProxyProcess() {
        }

        public static void main(String[] args) throws Exception {
            Thread stop = new Thread(() -> {
                try {
                    Thread.sleep(300_000);
                } catch (InterruptedException e) {
                    return;
                }
                System.exit(3);
            });
            stop.setDaemon(true);
            stop.start();
            ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(Files.readString(Path.of(args[0]))),
                    args[0], Path.of("."));
            Configuration cf = OscoreEndpointBuilder.defaultConfiguration();
            cf.set(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES, DEDUP_ENTRIES);
            try (ProxyServer proxy = new ProxyServer(cfg, List.of(), Map.of(), cf).start()) {
                System.out.println("READY " + proxy.listenAddresses().get(0).getPort());
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("stats")) {
                        long heap = usedHeapAfterGc(proxy.listenAddresses().get(0));
                        System.out.println("STATS " + heap + " " + proxy.groupCollections() + " "
                                + (long) proxy.metrics().groupRelayedCount() + " " + (long) proxy.metrics().groupDroppedCount() + " "
                                + proxy.metrics().inFlight().get());
                        System.out.flush();
                    } else if (line.startsWith("retain ")) {
                        // the memory check's positive control: a leak of one smallest object per request, made by hand
                        int n = Integer.parseInt(line.substring(7).trim());
                        List<Object> leak = new ArrayList<>(n);
                        for (int i = 0; i < n; i++) {
                            leak.add(new Object());
                        }
                        RETAINED.add(leak);
                        System.out.println("RETAINED " + n);
                        System.out.flush();
                    }
                }
            }
            System.exit(0);
        }

        /** What {@code retain N} keeps: N plain objects (16 B each) and the references to them (4 B each). */
        private static final List<Object> RETAINED = new ArrayList<>();

        /**
         * The least used heap seen right after each of five full collections (serial GC: a full,
         * compacting one each). Before them, one collection and then one CON request to the
         * proxy itself, which goes through the front endpoint's stack and is answered 4.04: that
         * endpoint's OSCORE layer keeps every exchange in weak-keyed maps, whose cleared entries
         * (thousands after a round, as many as exchanges ended since the last young collection)
         * stay until a map is next used; the request makes the maps drop them, so that the figure
         * does not depend on when the last young collection ran.
         */
        static long usedHeapAfterGc(InetSocketAddress self) throws Exception {
            System.gc();
            Thread.sleep(200); // the cleared references reach the maps' queues
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(self.getAddress(), 0))) {
                byte[] get = {0x41, 0x01, 0x12, 0x34, 0x7e}; // CON GET (a NON one would take the fast path), Token 7e
                probe.send(new DatagramPacket(get, get.length, self));
                probe.setSoTimeout(2000);
                probe.receive(new DatagramPacket(new byte[256], 256));
            } catch (SocketTimeoutException e) {
                // not answered: measured anyway, the cleared entries then stay in the figure
            }
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            long least = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                Thread.sleep(100);
                System.gc();
                least = Math.min(least, mem.getHeapMemoryUsage().getUsed()); // at once: before other threads allocate
            }
            return least;
        }
    }

    /** The proxy child process and its command line. */
    static final class ProxyChild implements AutoCloseable {
        final Process process;
        final Path err;
        private final BufferedReader out;

        ProxyChild(Path yaml, Path err) throws Exception {
            this.err = err;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                    System.getProperty("java.class.path"), ProxyProcess.class.getName(), yaml.toString())
                    .redirectError(err.toFile()).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String l = out.readLine();
            if (l == null || !l.startsWith("READY ")) {
                throw new IllegalStateException("the proxy did not start: " + l + "\n" + Files.readString(err));
            }
        }

        /** {heap, collections, relayed, dropped, in flight}. */
        long[] stats() throws Exception {
            String l = command("stats", "STATS ");
            return Arrays.stream(l.substring(6).trim().split(" ")).mapToLong(Long::parseLong).toArray();
        }

        /** Makes the proxy's JVM keep {@code n} smallest objects: the positive control of the memory check. */
        void retain(long n) throws Exception {
            command("retain " + n, "RETAINED ");
        }

        private String command(String c, String answer) throws Exception {
            OutputStream o = process.getOutputStream();
            o.write((c + "\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
            String l = out.readLine();
            if (l == null || !l.startsWith(answer)) {
                throw new IllegalStateException("no answer to " + c + " from the proxy: " + l + "\n" + Files.readString(err));
            }
            return l;
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    // ------------------------------------------------------------------ the run

    /** Udp RcvbufErrors of this namespace (/proc/net/snmp), to tell a kernel drop from a proxy's loss. */
    static long udpReceiveBufferErrors() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/snmp"));
            for (int i = 0; i + 1 < lines.size(); i++) {
                if (lines.get(i).startsWith("Udp: ") && lines.get(i + 1).startsWith("Udp: ")) {
                    List<String> names = List.of(lines.get(i).split("\\s+"));
                    String[] values = lines.get(i + 1).split("\\s+");
                    return Long.parseLong(values[names.indexOf("RcvbufErrors")]);
                }
            }
        } catch (Exception e) {
            // not available: reported as -1
        }
        return -1;
    }

    private static void runRound(List<Client> clients, int round, long deadline) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (Client c : clients) {
            Thread t = new Thread(() -> {
                try {
                    c.round(round, deadline);
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "client-" + c.tally.client);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 5000));
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a client failed", errors.get(0));
        }
    }

    private static void run(int nClients, int warmup, int measured, int inFlight, int rounds) throws Exception {
        detectorControl();
        List<Server> servers = new ArrayList<>();
        List<Client> clients = new ArrayList<>();
        Path yaml = Files.createTempFile("group-proxy-load", ".yaml");
        Path err = Files.createTempFile("group-proxy-load", ".err");
        Files.writeString(yaml, proxyYaml(nClients));
        long drops0 = udpReceiveBufferErrors();
        try (ProxyChild proxy = new ProxyChild(yaml, err)) {
            for (int i = 1; i <= SERVERS; i++) {
                servers.add(new Server(i));
            }
            SecureRandom random = new SecureRandom();
            InetSocketAddress proxyAddress = new InetSocketAddress(addr("127.0.0.1"), PROXY_PORT);
            for (int c = 0; c < nClients; c++) {
                int[] perRound = new int[rounds + 1];
                Arrays.fill(perRound, measured);
                perRound[0] = warmup;
                clients.add(new Client(new Tally(c, perRound, random), proxyAddress, inFlight));
            }
            long t0 = System.nanoTime();
            runRound(clients, 0, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
            long t1 = System.nanoTime();
            long[] afterWarmup = proxy.stats();
            List<Long> heaps = new ArrayList<>(List.of(afterWarmup[0]));
            long[] afterRun = afterWarmup;
            long[] collectionsAfter = new long[rounds + 1];
            long[] inFlightAfter = new long[rounds + 1];
            collectionsAfter[0] = afterWarmup[1];
            inFlightAfter[0] = afterWarmup[4];
            long runNanos = 0;
            for (int r = 1; r <= rounds; r++) {
                long a = System.nanoTime();
                runRound(clients, r, System.nanoTime() + TimeUnit.SECONDS.toNanos(45));
                runNanos += System.nanoTime() - a - TimeUnit.MILLISECONDS.toNanos(quietMillis(r));
                afterRun = proxy.stats();
                heaps.add(afterRun[0]);
                collectionsAfter[r] = afterRun[1];
                inFlightAfter[r] = afterRun[4];
            }
            long drops = udpReceiveBufferErrors() - drops0;

            long requests = (long) nClients * (warmup + (long) measured * rounds);
            long notExact = 0;
            long received = 0;
            long givenUp = 0;
            long[] verdicts = new long[Verdict.values().length];
            List<String> samples = new ArrayList<>();
            for (Client c : clients) {
                for (int r = 0; r <= rounds; r++) {
                    notExact += c.tally.notExactlyOnePerServer(r);
                    received += c.tally.responses(r);
                }
                givenUp += c.givenUp;
                for (Verdict v : Verdict.values()) {
                    verdicts[v.ordinal()] += c.tally.verdict(v);
                }
                if (samples.size() < 3) {
                    samples.addAll(c.tally.samples);
                }
            }
            long crossed = verdicts[Verdict.CROSSED.ordinal()];
            long foreign = verdicts[Verdict.FOREIGN.ordinal()];
            long badReplyFrom = verdicts[Verdict.BAD_REPLY_FROM.ordinal()];
            long badMessage = verdicts[Verdict.BAD_MESSAGE.ordinal()];
            long duplicates = verdicts[Verdict.DUPLICATE.ordinal()];
            String problems = String.format(Locale.ROOT, "requests %d, not exactly one per server %d (given up %d), crossed %d, "
                            + "foreign %d, bad Reply-From %d, bad message %d, duplicates %d, UDP receive buffer drops %d; %s",
                    requests, notExact, givenUp, crossed, foreign, badReplyFrom, badMessage, duplicates, drops, samples);

            check(notExact == 0 && duplicates == 0 && received == requests * SERVERS,
                    "GPX_05 every request got exactly " + SERVERS + " responses, one per server", problems);
            check(badReplyFrom == 0 && received > 0, "GPX_05 every Reply-From is the answering server's unicast address CRI", problems);
            check(crossed == 0 && foreign == 0 && badMessage == 0 && received > 0,
                    "GPX_05 every response carried its own client's Token and marker (nothing crossed between clients)", problems);
            long relayed = afterRun[2];
            check(relayed == received && afterRun[3] == 0,
                    "GPX_05 the proxy relayed exactly the responses the clients received, and dropped none",
                    "relayed " + relayed + ", dropped " + afterRun[3] + ", received " + received);
            long served = servers.stream().mapToLong(s -> s.requests.get()).min().orElse(0);
            long servedMax = servers.stream().mapToLong(s -> s.requests.get()).max().orElse(0);
            check(served == requests && servedMax == requests, "GPX_04 every server got every group request once",
                    servers.stream().map(s -> s.index + ":" + s.requests.get() + "/" + s.malformed.get()).toList());
            check(Arrays.stream(collectionsAfter).allMatch(n -> n == 0) && Arrays.stream(inFlightAfter).allMatch(n -> n == 0),
                    "GPX_06 every collection ended (groupCollections 0, no exchange slot held) after each round",
                    "collections " + Arrays.toString(collectionsAfter) + ", exchanges in flight " + Arrays.toString(inFlightAfter));

            // Memory. At both measurements no collection runs, and every bounded per-request structure that outlives
            // a collection is already full: the front deduplicator (DEDUP_ENTRIES) and the released Tokens
            // (TOKENS_REMEMBERED), both far below the warm-up's requests; the rate bucket is one (all clients share
            // 127.0.0.1); the hash tables are as large as the measured round makes them (multicastTimeout). So the
            // measured round should add nothing. Anything retained per request costs at least one object of
            // SMALLEST_OBJECT_BYTES, plus a reference to it; retained per response, SERVERS times that. The bound,
            // measured requests x SMALLEST_OBJECT_BYTES (240 KB for 15,000 requests), is exceeded by a leak of even
            // one smallest object per request, and five times over by one per response, yet leaves room for what
            // does vary between two full collections (seen: -40 to +70 KB, mostly socket address objects).
            long measuredRequests = (long) nClients * measured * rounds;
            long bound = measuredRequests * SMALLEST_OBJECT_BYTES;
            long growth = afterRun[0] - afterWarmup[0];
            check(growth < bound, "MEM the proxy's used heap after GC grew less than one smallest object per measured request",
                    String.format(Locale.ROOT, "grew %d B (%d -> %d), bound %d B", growth, afterWarmup[0], afterRun[0], bound));
            // positive control: the same check, after the proxy's JVM was made to keep one smallest object per measured
            // request, must see it (16 B each, and the 4 B reference to it)
            proxy.retain(measuredRequests);
            long controlGrowth = proxy.stats()[0] - afterWarmup[0];
            check(controlGrowth >= bound, "MEM positive control: one smallest object kept per measured request is over the bound",
                    String.format(Locale.ROOT, "grew %d B with the objects kept, bound %d B", controlGrowth, bound));
            double rate = measuredRequests * (double) SERVERS / (runNanos / 1e9);
            System.out.printf(Locale.ROOT, "FIGURES clients=%d in_flight=%d warmup_requests=%d measured_requests=%d responses=%d "
                            + "relayed=%d heap_after_warmup=%d heap_after_run=%d growth=%d bound=%d growth_per_request=%.2f "
                            + "warmup_s=%.1f run_s=%.1f responses_per_s=%.0f udp_drops=%d heap_after_each_round=%s control_growth=%d%n",
                    nClients, inFlight, (long) nClients * warmup, measuredRequests, received, relayed, afterWarmup[0],
                    afterRun[0], growth, bound, growth / (double) measuredRequests, (t1 - t0) / 1e9, runNanos / 1e9,
                    rate, drops, heaps, controlGrowth);
        } finally {
            for (Client c : clients) {
                c.close();
            }
            for (Server s : servers) {
                s.close();
            }
            Files.deleteIfExists(yaml);
            Files.deleteIfExists(err);
        }
        System.out.println(failures.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED " + failures);
    }
}
