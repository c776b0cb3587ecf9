package dev.coterie.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): three CoAP servers
 * listen to the group 224.0.1.187:5683 on the namespace's loopback and answer from their own
 * unicast ports; a Coterie proxy forwards group requests to them; a scripted client talks to the
 * proxy over unicast and checks every datagram it gets back (groupcomm-proxy Section 5, digest
 * 5.3, GPX-nn). Prints "CHECK ok NAME" per check and "SCENARIO OK" when all passed.
 *
 * <p>Server behaviour by path: /light every server answers at once (NON; server 2 with a CON
 * separate response, which the proxy must acknowledge); /slow servers 1 and 2 at once, server 3
 * after 1500 ms; /twice server 1 answers twice (two Message IDs) and retransmits its first
 * answer (the same Message ID), the others once.
 */
public final class GroupProxyScenario {
    static final InetAddress GROUP = addr("224.0.1.187");
    static final int GROUP_PORT = 5683;
    static final InetSocketAddress PROXY = new InetSocketAddress(addr("127.0.0.1"), 5600);
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();
    private static final int MT = 2;
    private static final int REPLY_FROM = 248;
    private static final List<String> failures = new ArrayList<>();
    private static final AtomicInteger midCounter = new AtomicInteger(1000);

    private GroupProxyScenario() {
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
            run();
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

    /** One scripted group member. */
    static final class Server implements AutoCloseable {
        final int index;
        final DatagramSocket unicast;
        final MulticastSocket group;
        final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
        final AtomicInteger acksReceived = new AtomicInteger();
        final Thread thread;
        volatile boolean closed;

        Server(int index) throws Exception {
            this.index = index;
            unicast = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), 5700 + index));
            group = new MulticastSocket(null);
            group.setReuseAddress(true);
            group.bind(new InetSocketAddress(GROUP_PORT));
            group.joinGroup(new InetSocketAddress(GROUP, GROUP_PORT), NetworkInterface.getByName("lo"));
            thread = new Thread(this::serve, "server-" + index);
            thread.setDaemon(true);
            thread.start();
            Thread acks = new Thread(this::readAcks, "server-acks-" + index);
            acks.setDaemon(true);
            acks.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) unicast.getLocalSocketAddress();
        }

        private void readAcks() {
            byte[] buf = new byte[1500];
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    unicast.receive(p);
                } catch (Exception e) {
                    return;
                }
                if (p.getLength() == 4 && ((buf[0] >> 4) & 3) == CoAP.Type.ACK.value) {
                    acksReceived.incrementAndGet();
                    continue;
                }
                if (p.getLength() == 4 && ((buf[0] >> 4) & 3) == CoAP.Type.RST.value) {
                    resets.incrementAndGet();
                    continue;
                }
                try {
                    Message m = new UdpDataParser(false, REGISTRY).parseMessage(Arrays.copyOf(buf, p.getLength()));
                    if (m instanceof Request r) { // a unicast request: a follow-up through the proxy
                        String path = String.join("/", r.getOptions().getUriPath());
                        requests.computeIfAbsent("unicast " + path, k -> new AtomicInteger()).incrementAndGet();
                        send(r, "s" + index + " unicast", (InetSocketAddress) p.getSocketAddress(),
                                r.isConfirmable() ? CoAP.Type.ACK : CoAP.Type.NON, r.getMID(), path.equals("uni") ? 30 : 0);
                    }
                } catch (Exception e) {
                    if (!closed) {
                        e.printStackTrace(System.out);
                    }
                }
            }
        }

        private void serve() {
            byte[] buf = new byte[1500];
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    group.receive(p);
                    Message m = new UdpDataParser(false, REGISTRY).parseMessage(Arrays.copyOf(buf, p.getLength()));
                    if (!(m instanceof Request r)) {
                        continue;
                    }
                    String path = String.join("/", r.getOptions().getUriPath());
                    requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
                    InetSocketAddress to = (InetSocketAddress) p.getSocketAddress();
                    answer(r, path, to);
                } catch (Exception e) {
                    if (!closed) {
                        e.printStackTrace(System.out);
                    }
                }
            }
        }

        private void answer(Request r, String path, InetSocketAddress to) throws Exception {
            if (r.getOptions().hasOption(MT)) {
                System.out.println("server " + index + " saw Multicast-Timeout in " + path);
                requests.computeIfAbsent("with-multicast-timeout", k -> new AtomicInteger()).incrementAndGet();
            }
            switch (path) {
                case "light" -> send(r, "s" + index, to, index == 2 ? CoAP.Type.CON : CoAP.Type.NON, midCounter.incrementAndGet());
                case "slow" -> {
                    if (index == 3) {
                        new Thread(() -> {
                            try {
                                Thread.sleep(1500);
                                send(r, "s3 late", to, CoAP.Type.NON, midCounter.incrementAndGet());
                            } catch (Exception e) {
                                e.printStackTrace(System.out);
                            }
                        }).start();
                    } else {
                        send(r, "s" + index, to, CoAP.Type.NON, midCounter.incrementAndGet());
                    }
                }
                case "twice" -> {
                    int mid = midCounter.incrementAndGet();
                    send(r, "s" + index + "a", to, CoAP.Type.NON, mid);
                    if (index == 1) {
                        send(r, "s1a", to, CoAP.Type.NON, mid); // a retransmission: the same Message ID
                        send(r, "s1b", to, CoAP.Type.NON, midCounter.incrementAndGet());
                    }
                }
                case "obs" -> new Thread(() -> {
                    try {
                        // a group observation: notifications at once and at 1.5 s; server 1 ends with 4.04 at 3 s, the
                        // others notify again at 5 s (after the client stopped: the proxy must not relay those)
                        sendObserve(r, "s" + index + " n1", to, 1);
                        Thread.sleep(1500);
                        sendObserve(r, "s" + index + " n2", to, 2);
                        Thread.sleep(1500);
                        if (index == 1) {
                            Response end = new Response(ResponseCode.NOT_FOUND);
                            end.setType(CoAP.Type.NON);
                            end.setMID(midCounter.incrementAndGet() & 0xffff);
                            end.setToken(r.getToken());
                            end.setPayload("s1 gone");
                            byte[] b = new UdpDataSerializer().getByteArray(end);
                            unicast.send(new DatagramPacket(b, b.length, to));
                            return;
                        }
                        Thread.sleep(2000);
                        sendObserve(r, "s" + index + " n3", to, 3);
                    } catch (Exception e) {
                        e.printStackTrace(System.out);
                    }
                }).start();
                case "nm" -> {
                    if (index == 1 || index == 9) {
                        send(r, "s" + index + " nm", to, CoAP.Type.NON, midCounter.incrementAndGet());
                    }
                }
                case "uni" -> send(r, "s" + index + " uni group", to, CoAP.Type.NON, midCounter.incrementAndGet(), 30);
                case "slower" -> new Thread(() -> {
                    try {
                        if (index == 3) {
                            Thread.sleep(2500);
                        }
                        send(r, "s" + index + (index == 3 ? " later" : ""), to, CoAP.Type.NON, midCounter.incrementAndGet());
                    } catch (Exception e) {
                        e.printStackTrace(System.out);
                    }
                }).start();
                case "cached", "short", "partial" -> {
                    int v = versions.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
                    long maxAge = path.equals("short") && index == 2 ? 2 : path.equals("partial") && index == 1 ? 3 : 30;
                    if (!(path.equals("partial") && index == 3)) {
                        send(r, "s" + index + " v" + v, to, CoAP.Type.NON, midCounter.incrementAndGet(), maxAge);
                    }
                }
                default -> {
                }
            }
        }

        final Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();

        /** Max-Age 0: the forwarding checks must not be answered from the proxy's cache. */
        void send(Request r, String payload, InetSocketAddress to, CoAP.Type type, int mid) throws Exception {
            send(r, payload, to, type, mid, 0);
        }

        void send(Request r, String payload, InetSocketAddress to, CoAP.Type type, int mid, long maxAge) throws Exception {
            Response resp = new Response(ResponseCode.CONTENT);
            if (maxAge >= 0) {
                resp.getOptions().setMaxAge(maxAge);
            }
            resp.setType(type);
            resp.setMID(mid & 0xffff);
            resp.setToken(r.getToken());
            resp.getOptions().setContentFormat(0);
            resp.setPayload(payload);
            byte[] b = new UdpDataSerializer().getByteArray(resp);
            unicast.send(new DatagramPacket(b, b.length, to));
        }

        void sendObserve(Request r, String payload, InetSocketAddress to, int number) throws Exception {
            Response resp = new Response(ResponseCode.CONTENT);
            resp.setType(CoAP.Type.NON);
            resp.setMID(midCounter.incrementAndGet() & 0xffff);
            resp.setToken(r.getToken());
            resp.getOptions().setObserve(number).setContentFormat(0).setMaxAge(0);
            resp.setPayload(payload);
            byte[] b = new UdpDataSerializer().getByteArray(resp);
            unicast.send(new DatagramPacket(b, b.length, to));
        }

        final AtomicInteger resets = new AtomicInteger();

        int count(String path) {
            AtomicInteger a = requests.get(path);
            return a == null ? 0 : a.get();
        }

        @Override
        public void close() {
            closed = true;
            unicast.close();
            group.close();
        }
    }

    /** The scripted client: unicast to the proxy, every datagram back parsed. */
    static final class Client implements AutoCloseable {
        final DatagramSocket socket;

        Client() throws Exception {
            socket = new DatagramSocket(new InetSocketAddress(addr("127.0.0.1"), 0));
        }

        Request request(String uri, Long multicastTimeout, byte[] token, CoAP.Type type) {
            Request r = new Request(CoAP.Code.GET, type);
            r.setMID(midCounter.incrementAndGet() & 0xffff);
            r.setToken(Token.fromProvider(token));
            r.getOptions().setProxyUri(uri);
            if (multicastTimeout != null) {
                r.getOptions().addOption(new Option(MT, multicastTimeout));
            }
            return r;
        }

        void send(Message m) throws Exception {
            sendTo(m, PROXY);
        }

        void sendTo(Message m, InetSocketAddress to) throws Exception {
            byte[] b = new UdpDataSerializer().getByteArray(m);
            socket.send(new DatagramPacket(b, b.length, to));
        }

        /** Every message that arrives within {@code ms}. */
        List<Message> collect(int ms) throws Exception {
            List<Message> out = new ArrayList<>();
            long end = System.currentTimeMillis() + ms;
            byte[] buf = new byte[1500];
            while (true) {
                long left = end - System.currentTimeMillis();
                if (left <= 0) {
                    return out;
                }
                socket.setSoTimeout((int) left);
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    return out;
                }
                out.add(new UdpDataParser(false, REGISTRY).parseMessage(Arrays.copyOf(buf, p.getLength())));
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    static List<Response> responses(List<Message> ms) {
        List<Response> out = new ArrayList<>();
        for (Message m : ms) {
            if (m instanceof Response r) {
                out.add(r);
            }
        }
        return out;
    }

    static Option option(Response r, int number) {
        for (Option o : r.getOptions().getOthers()) {
            if (o.getNumber() == number) {
                return o;
            }
        }
        return null;
    }

    /** Reply-From for 127.0.0.1:PORT, written out independently: [-1, [h'7f000001', PORT]] (CBOR). */
    static String replyFromHex(int port) {
        return "8220" + "82" + "447f000001" + "19" + String.format("%04x", port);
    }

    private static void run() throws Exception {
        List<Server> servers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            servers.add(new Server(i));
        }
        // a host on the link that joined the group but is not one of its configured members (5701-5703)
        Server outsider = new Server(9);
        String yaml = String.join("\n",
                "listen: [\"127.0.0.1:5600\"]",
                "listen_tcp: [\"127.0.0.1:5610\"]",
                "forward_proxy: true",
                "groups:",
                "  - {name: lights, host: lights.example, address: 224.0.1.187, port: 5683, interface: lo,",
                "     members: [\"127.0.0.1:5701\", \"127.0.0.1:5702\", \"127.0.0.1:5703\"]}",
                "  - {name: sensors, host: sensors.example, address: 224.0.1.188, port: 5683}",
                "group_forwarding: {token_reuse_s: 500}",
                "routes:",
                "  - {name: lights-group, uri_host: lights.example, group: lights}",
                "  - {name: each-lamp, uri_host: each.example, group: lights, stand_in: servers}",
                "access:",
                "  - client: unauthenticated",
                "    allow: [{group: lights}, {origin: '127.0.0.1:5701'}, {origin: '127.0.0.1:5702'}, {origin: '127.0.0.1:5703'}]",
                "");
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "group-proxy.yaml", Path.of("."));
        try (ProxyServer proxy = new ProxyServer(cfg, List.of(), Map.of()).start(); Client client = new Client()) {
            // GPX-05: every response relayed, each with the client's Token and Reply-From naming its server
            byte[] token = Hex.decode("a1a2a3a4");
            client.send(client.request("coap://lights.example/light", 1L, token, CoAP.Type.NON));
            List<Response> rs = responses(client.collect(2500));
            List<String> payloads = new ArrayList<>();
            boolean tokens = true;
            boolean replyFrom = true;
            StringBuilder rf = new StringBuilder();
            java.util.Set<Integer> mids = new java.util.HashSet<>();
            for (Response r : rs) {
                payloads.add(r.getPayloadString());
                tokens &= Arrays.equals(r.getTokenBytes(), token);
                Option o = option(r, REPLY_FROM);
                int server = Integer.parseInt(r.getPayloadString().substring(1, 2));
                String expected = replyFromHex(5700 + server);
                String got = o == null ? "none" : Hex.encode(o.getValue());
                rf.append(r.getPayloadString()).append('=').append(got).append(' ');
                replyFrom &= expected.equals(got);
                mids.add(r.getMID());
            }
            java.util.Collections.sort(payloads);
            check(payloads.equals(List.of("s1", "s2", "s3")), "GPX_05 three servers' responses relayed", payloads);
            check(tokens && !rs.isEmpty(), "GPX_05 every relayed response carries the client's Token", rs);
            check(replyFrom && !rs.isEmpty(), "GPX_05 Reply-From is [-1, [h'7f000001', port]] of the answering server", rf);
            check(mids.size() == rs.size(), "GPX_05 each relayed response has its own Message ID", mids);
            check(rs.stream().allMatch(r -> r.getType() == CoAP.Type.NON && r.getCode() == ResponseCode.CONTENT),
                    "GPX_05 relayed responses are NON 2.05", rs);
            check(servers.get(1).acksReceived.get() >= 1, "GCB_01 the proxy acknowledged a server's CON response",
                    servers.get(1).acksReceived.get());
            check(servers.stream().allMatch(s -> s.count("light") == 1) && servers.stream().allMatch(s -> s.count("with-multicast-timeout") == 0),
                    "GPX_04 the group got the request once per server, without Multicast-Timeout",
                    servers.stream().map(s -> s.requests.toString()).toList());

            // GPX-03: Multicast-Timeout missing
            client.send(client.request("coap://lights.example/light", null, Hex.decode("b1"), CoAP.Type.CON));
            List<Message> got = client.collect(1000);
            Response bad = responses(got).isEmpty() ? null : responses(got).get(0);
            Option emptyMt = bad == null ? null : option(bad, MT);
            check(bad != null && bad.getCode() == ResponseCode.BAD_REQUEST && emptyMt != null && emptyMt.getLength() == 0
                            && bad.getPayloadSize() > 0 && responses(got).size() == 1,
                    "GPX_03 no Multicast-Timeout: one 4.00 with an empty Multicast-Timeout and a diagnostic", got);
            check(servers.stream().allMatch(s -> s.count("light") == 1), "GPX_03 the request without it was not forwarded",
                    servers.stream().map(s -> s.requests.toString()).toList());

            // GPX-02: a configured group the client is not allowed to reach, and a multicast address not configured
            client.send(client.request("coap://sensors.example/temp", 1L, Hex.decode("b2"), CoAP.Type.CON));
            Response denied = first(client.collect(1000));
            check(denied != null && denied.getCode() == ResponseCode.UNAUTHORIZED, "GPX_02 a group not on the client's list: 4.01",
                    denied);
            client.send(client.request("coap://224.0.1.189/temp", 1L, Hex.decode("b3"), CoAP.Type.CON));
            Response unconfigured = first(client.collect(1000));
            check(unconfigured != null && unconfigured.getCode() == ResponseCode.UNAUTHORIZED,
                    "GPX_02 a multicast address that is not a configured group: 4.01", unconfigured);
            client.send(client.request("coap://224.0.1.187/light", 1L, Hex.decode("b4"), CoAP.Type.NON));
            check(responses(client.collect(2000)).size() == 3, "GPX_02 positive control: the group by its address is reached",
                    "");

            // GPX-06: T' = 0 relays nothing (No-Response 26), though the servers answer
            Request zero = client.request("coap://lights.example/light", 0L, Hex.decode("c0"), CoAP.Type.NON);
            zero.getOptions().setNoResponse(26);
            int before = servers.get(0).count("light");
            client.send(zero);
            List<Message> none = client.collect(1500);
            check(none.isEmpty() && servers.get(0).count("light") == before + 1,
                    "GPX_06 T' = 0: the group got the request and nothing was relayed", none);

            // GPX-06: a response after T' is dropped; the others are relayed
            client.send(client.request("coap://lights.example/slow", 1L, Hex.decode("c1"), CoAP.Type.NON));
            List<String> slow = payloadsOf(client.collect(2500));
            check(slow.equals(List.of("s1", "s2")), "GPX_06 the response after T' (1 s; it came at 1.5 s) is not relayed", slow);
            client.send(client.request("coap://lights.example/slow", 2L, Hex.decode("c2"), CoAP.Type.NON));
            List<String> slowControl = payloadsOf(client.collect(2800));
            check(slowControl.equals(List.of("s1", "s2", "s3 late")), "GPX_06 positive control: with T' = 2 s it is relayed",
                    slowControl);

            // several responses from one server are relayed as they come; a retransmission once
            client.send(client.request("coap://lights.example/twice", 1L, Hex.decode("c3"), CoAP.Type.NON));
            List<String> twice = payloadsOf(client.collect(2000));
            check(twice.equals(List.of("s1a", "s1b", "s2a", "s3a")),
                    "GPX_05 two responses of one server both relayed, its retransmission once", twice);

            // GPX-07: Early Stop Request
            byte[] t7 = Hex.decode("d1");
            client.send(client.request("coap://lights.example/slow", 3L, t7, CoAP.Type.NON));
            List<String> early = payloadsOf(client.collect(500));
            Request stop = new Request(CoAP.Code.GET, CoAP.Type.NON);
            stop.setMID(midCounter.incrementAndGet() & 0xffff);
            stop.setToken(Token.fromProvider(t7));
            stop.getOptions().addOption(new Option(MT, new byte[0]));
            int slowBefore = servers.stream().mapToInt(s -> s.count("slow") + s.count("")).sum();
            client.send(stop);
            List<Message> afterStop = client.collect(2000);
            int slowAfter = servers.stream().mapToInt(s -> s.count("slow") + s.count("")).sum();
            check(early.equals(List.of("s1", "s2")) && afterStop.isEmpty(),
                    "GPX_07 after an Early Stop Request nothing more is relayed", early + " then " + afterStop);
            check(slowAfter == slowBefore, "GPX_07 the Early Stop Request is not forwarded", slowBefore + " -> " + slowAfter);

            // GPX-07: RST to a relayed response
            client.send(client.request("coap://lights.example/slow", 3L, Hex.decode("d2"), CoAP.Type.NON));
            List<Message> firstOnes = client.collect(500);
            Response toReset = first(firstOnes);
            if (toReset != null) {
                byte[] rst = {0x70, 0, (byte) (toReset.getMID() >> 8), (byte) toReset.getMID()};
                client.socket.send(new DatagramPacket(rst, 4, PROXY));
            }
            List<Message> afterRst = client.collect(2000);
            check(toReset != null && afterRst.isEmpty(), "GPX_07 after an RST to a relayed response nothing more is relayed",
                    firstOnes + " then " + afterRst);

            // GCB-07: a Token reused while its collection runs: 4.00, the old collection stopped, not forwarded
            byte[] t8 = Hex.decode("e1");
            client.send(client.request("coap://lights.example/slow", 3L, t8, CoAP.Type.NON));
            List<Message> firstOfReuse = client.collect(500);
            int slowCount = servers.get(0).count("slow");
            client.send(client.request("coap://lights.example/slow", 3L, t8, CoAP.Type.NON));
            List<Message> reuse = client.collect(2000);
            Response reuseAnswer = first(reuse);
            check(payloadsOf(firstOfReuse).equals(List.of("s1", "s2")) && reuse.size() == 1 && reuseAnswer != null
                            && reuseAnswer.getCode() == ResponseCode.BAD_REQUEST && servers.get(0).count("slow") == slowCount,
                    "GCB_07 a reused Token during a collection: one 4.00, not forwarded, the old collection stopped",
                    firstOfReuse + " then " + reuse);

            cacheChecks(client, servers);
            chainChecks(client);
            reverseChecks(client, servers);
            maxResponsesCheck(client);
            reviewChecks(client, servers, outsider, proxy);
            observeChecks(client, servers);

            // no server answers /silent: the collection ends at T' with nothing relayed, and frees its slot too
            client.send(client.request("coap://lights.example/silent", 1L, Hex.decode("5117"), CoAP.Type.CON));
            List<Message> silent = client.collect(1500);
            check(silent.size() == 1 && silent.get(0).getType() == CoAP.Type.ACK && silent.get(0).getRawCode() == 0,
                    "GPX_06 a CON group request nobody answers: an empty ACK, then nothing", silent);
            tcpClientCheck(); // last: the checks above count the servers' requests
            Thread.sleep(200);
            check(proxy.groupCollections() == 0 && proxy.metrics().inFlight().get() == 0 && proxy.metrics().observers().get() == 0,
                    "GPX_06 every collection ended (Tokens released, exchange slots and observer counts back to 0)",
                    proxy.groupCollections() + " collections, " + proxy.metrics().inFlight().get() + " in flight, "
                            + proxy.metrics().observers().get() + " observers");
        } finally {
            for (Server s : servers) {
                s.close();
            }
            outsider.close();
        }
        System.out.println(failures.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED " + failures);
    }

    /**
     * A group request from a coap+tcp client (the proxy's listen_tcp, RFC 8323): every server's
     * response comes back on the client's connection, each a frame with its Token and Reply-From.
     */
    private static void tcpClientCheck() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", 5610)) {
            s.getOutputStream().write(Hex.decode("30e1220480")); // CSM, Max-Message-Size 1152
            byte[] token = Hex.decode("b1b2b3");
            Request r = new Request(CoAP.Code.GET);
            r.setToken(Token.fromProvider(token));
            r.getOptions().setProxyUri("coap://lights.example/light");
            r.getOptions().addOption(new Option(MT, 1L));
            s.getOutputStream().write(new org.eclipse.californium.core.network.serialization.TcpDataSerializer().getByteArray(r));
            s.setSoTimeout(200);
            List<String> got = new ArrayList<>();
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            long end = System.currentTimeMillis() + 2500;
            while (System.currentTimeMillis() < end) {
                byte[] frame;
                try {
                    frame = readFrame(in);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (frame == null) {
                    got.add("closed");
                    break;
                }
                Message m;
                try {
                    m = new org.eclipse.californium.core.network.serialization.TcpDataParser(REGISTRY).parseMessage(frame);
                } catch (org.eclipse.californium.core.coap.CoAPMessageFormatException signal) {
                    continue; // the proxy's CSM (7.01): Californium's parser knows no signaling codes
                }
                if (m instanceof Response resp && resp.getCode().codeClass == 2) {
                    Option o = option(resp, REPLY_FROM);
                    boolean named = o != null && Hex.encode(o.getValue()).equals(replyFromHex(5700
                            + Integer.parseInt(resp.getPayloadString().substring(1, 2))));
                    got.add(resp.getPayloadString() + (Arrays.equals(resp.getTokenBytes(), token) ? "" : " wrong token")
                            + (named ? "" : " no Reply-From"));
                }
            }
            java.util.Collections.sort(got);
            check(got.equals(List.of("s1", "s2", "s3")), "GPX_05_TCP a group request over coap+tcp: every server's response "
                    + "on the client's connection, with its Token and Reply-From", got);
        }
    }

    /** One RFC 8323 frame, or null at the end of the stream. */
    private static byte[] readFrame(java.io.DataInputStream in) throws java.io.IOException {
        int b0 = in.read();
        if (b0 < 0) {
            return null;
        }
        int len = b0 >>> 4;
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        head.write(b0);
        if (len == 13) {
            int e = in.readUnsignedByte();
            head.write(e);
            len = e + 13;
        } else if (len == 14) {
            int e = in.readUnsignedShort();
            head.write(e >>> 8);
            head.write(e & 0xFF);
            len = e + 269;
        } else if (len == 15) {
            throw new java.io.IOException("4-byte frame length");
        }
        byte[] rest = new byte[1 + (b0 & 0x0F) + len];
        in.readFully(rest);
        head.writeBytes(rest);
        return head.toByteArray();
    }

    /**
     * GPX-10, GPX-11: a chain of two Coterie proxies. P1 (127.0.0.1:5601) is not the last: it
     * sends group requests on to P2 (the proxy above) with T'' = T' - 1 s. /slow's third server
     * answers at 1.5 s, so with T' = 2 s (T'' = 1 s at P2) it is not relayed, with T' = 3 s it is.
     */
    private static void chainChecks(Client client) throws Exception {
        String yaml = String.join("\n",
                "listen: [\"127.0.0.1:5601\"]",
                "forward_proxy: true",
                "next_proxy: {address: \"127.0.0.1:5600\"}",
                "group_forwarding: {through_next_proxy: true, chain_margin_s: 1}",
                "access:",
                "  - client: unauthenticated",
                "    allow: [{origin: \"lights.example:5683\"}]",
                "");
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "chain.yaml", Path.of("."));
        InetSocketAddress p1 = new InetSocketAddress(addr("127.0.0.1"), 5601);
        try (ProxyServer first = new ProxyServer(cfg, List.of(), Map.of()).start()) {
            Request two = client.request("coap://lights.example/slower", 2L, Hex.decode("c7"), CoAP.Type.NON);
            client.sendTo(two, p1);
            List<Response> shortChain = responses(client.collect(3500));
            Request three = client.request("coap://lights.example/slower", 5L, Hex.decode("c8"), CoAP.Type.NON);
            client.sendTo(three, p1);
            List<Response> longChain = responses(client.collect(5500));
            check(payloadsOf(List.copyOf(shortChain)).equals(List.of("s1", "s2"))
                            && payloadsOf(List.copyOf(longChain)).equals(List.of("s1", "s2", "s3 later")),
                    "GPX_10 the non-last proxy sends T'' = T' - 1: at T' = 2 the 2.5 s response is past T'' (at 5 it is not)",
                    payloadsOf(List.copyOf(shortChain)) + " / " + payloadsOf(List.copyOf(longChain)));
            boolean untouched = !longChain.isEmpty();
            for (Response r : longChain) {
                Option o = option(r, REPLY_FROM);
                int server = Integer.parseInt(r.getPayloadString().substring(1, 2));
                untouched &= o != null && Hex.encode(o.getValue()).equals(replyFromHex(5700 + server))
                        && Arrays.equals(r.getTokenBytes(), Hex.decode("c8"));
            }
            check(untouched, "GPX_11 through the chain each Reply-From still names its server, with the client's Token",
                    longChain);
            Request tooShort = client.request("coap://lights.example/slow", 1L, Hex.decode("c9"), CoAP.Type.NON);
            client.sendTo(tooShort, p1);
            List<Message> refused = client.collect(1500);
            Response five = first(refused);
            Option min = five == null ? null : option(five, MT);
            check(refused.size() == 1 && five != null && five.getCode() == ResponseCode.PROXY_NOT_SUPPORTED && min != null
                            && min.getIntegerValue() == 2,
                    "GPX_10 no T'' below T' = 1: 5.05 with Multicast-Timeout 2, the least P1 accepts", refused);
        }
    }

    static Request reverse(String host, String path, Long multicastTimeout, byte[] token, CoAP.Type type) {
        Request r = new Request(CoAP.Code.GET, type);
        r.setMID(midCounter.incrementAndGet() & 0xffff);
        r.setToken(Token.fromProvider(token));
        r.getOptions().setUriHost(host);
        r.getOptions().addUriPath(path);
        if (multicastTimeout != null) {
            r.getOptions().addOption(new Option(MT, multicastTimeout));
        }
        return r;
    }

    /** The reverse-proxy flavours (groupcomm-proxy Section 5.4, GPX-13, GCB-07): routes lights-group and each-lamp. */
    private static void reverseChecks(Client client, List<Server> servers) throws Exception {
        client.send(reverse("lights.example", "light", 1L, Hex.decode("71"), CoAP.Type.NON));
        List<Response> forGroup = responses(client.collect(1500));
        boolean rf = forGroup.size() == 3;
        for (Response r : forGroup) {
            Option o = option(r, REPLY_FROM);
            rf &= o != null && Hex.encode(o.getValue()).equals(replyFromHex(5700 + Integer.parseInt(r.getPayloadString().substring(1, 2))));
        }
        check(payloadsOf(List.copyOf(forGroup)).equals(List.of("s1", "s2", "s3")) && rf,
                "GPX_13 a reverse proxy standing in for the group: every server's response, Reply-From naming it", forGroup);
        client.send(reverse("lights.example", "light", null, Hex.decode("72"), CoAP.Type.CON));
        Response reveal = first(client.collect(1000));
        Option emptyMt = reveal == null ? null : option(reveal, MT);
        check(reveal != null && reveal.getCode() == ResponseCode.BAD_REQUEST && emptyMt != null && emptyMt.getLength() == 0,
                "GPX_03 a reverse proxy reveals itself: 4.00 with an empty Multicast-Timeout", reveal);

        client.send(reverse("each.example", "light", 1L, Hex.decode("73"), CoAP.Type.NON));
        List<Response> forEach = responses(client.collect(1500));
        boolean refs = forEach.size() == 3;
        for (Response r : forEach) {
            Option o = option(r, REPLY_FROM);
            int server = Integer.parseInt(r.getPayloadString().substring(1, 2));
            // [-1, [h'7f000001', 5600]], [null, [h'7f000001', 570x]]
            String expected = "8220" + "82" + "447f000001" + "1915e0" + "82f6" + "82" + "447f000001" + "19"
                    + String.format("%04x", 5700 + server);
            refs &= o != null && Hex.encode(o.getValue()).equals(expected);
        }
        check(refs, "GPX_13 standing in for each server: Reply-From is the proxy's address with a reference to the server",
                forEach);
        int before = servers.get(1).count("unicast light");
        Request follow = new Request(CoAP.Code.GET, CoAP.Type.CON);
        follow.setMID(midCounter.incrementAndGet() & 0xffff);
        follow.setToken(Token.fromProvider(Hex.decode("74")));
        follow.getOptions().setUriHost("127.0.0.1");
        follow.getOptions().setUriPort(5702);
        follow.getOptions().addUriPath("light");
        client.send(follow);
        List<Message> fu = client.collect(1500);
        Response followed = first(fu);
        check(followed != null && followed.getCode() == ResponseCode.CONTENT && "s2 unicast".equals(followed.getPayloadString())
                        && servers.get(1).count("unicast light") == before + 1,
                "GPX_13 a follow-up with the reference's Uri-Host and Uri-Port reaches that one server through the proxy", fu);
        Request stranger = new Request(CoAP.Code.GET, CoAP.Type.CON);
        stranger.setMID(midCounter.incrementAndGet() & 0xffff);
        stranger.setToken(Token.fromProvider(Hex.decode("75")));
        stranger.getOptions().setUriHost("127.0.0.1");
        stranger.getOptions().setUriPort(5799);
        stranger.getOptions().addUriPath("light");
        client.send(stranger);
        Response notStoodIn = first(client.collect(1000));
        check(notStoodIn != null && notStoodIn.getCode() == ResponseCode.NOT_FOUND,
                "GPX_13 a follow-up to a server the proxy does not stand in for: 4.04", notStoodIn);

        byte[] t = Hex.decode("76");
        client.send(reverse("lights.example", "slow", 3L, t, CoAP.Type.NON));
        List<Message> firstOnes = client.collect(500);
        client.send(reverse("lights.example", "slow", 3L, t, CoAP.Type.NON));
        List<Message> reuse = client.collect(2000);
        Response r400 = first(reuse);
        check(payloadsOf(firstOnes).equals(List.of("s1", "s2")) && reuse.size() == 1 && r400 != null
                        && r400.getCode() == ResponseCode.BAD_REQUEST,
                "GCB_07 under a reverse proxy a Token reused during a collection: 4.00, the old collection stopped",
                firstOnes + " then " + reuse);
    }

    /** A group observation through the proxy (digest 5.3 step 6): Reply-From on every notification, the final 4.04 too. */
    private static void observeChecks(Client client, List<Server> servers) throws Exception {
        byte[] t = Hex.decode("0b5e");
        Request obs = client.request("coap://lights.example/obs", 1L, t, CoAP.Type.NON);
        obs.getOptions().setObserve(0);
        int resetsBefore = servers.get(1).resets.get() + servers.get(2).resets.get();
        client.send(obs);
        List<Response> got = responses(client.collect(4000)); // past T' = 1 s: n2 at 1.5 s, s1's 4.04 at 3 s
        Request stop = new Request(CoAP.Code.GET, CoAP.Type.NON);
        stop.setMID(midCounter.incrementAndGet() & 0xffff);
        stop.setToken(Token.fromProvider(t));
        stop.getOptions().addOption(new Option(MT, new byte[0]));
        client.send(stop);
        List<Message> afterStop = client.collect(3000); // the n3 at 5 s is not relayed
        boolean tagged = !got.isEmpty();
        for (Response r : got) {
            Option o = option(r, REPLY_FROM);
            tagged &= Arrays.equals(r.getTokenBytes(), t) && o != null
                    && Hex.encode(o.getValue()).equals(replyFromHex(5700 + Integer.parseInt(r.getPayloadString().substring(1, 2))));
        }
        List<String> payloads = payloadsOf(List.copyOf(got));
        check(payloads.equals(List.of("s1 gone", "s1 n1", "s1 n2", "s2 n1", "s2 n2", "s3 n1", "s3 n2")) && tagged,
                "GPX_05 a group observation: every notification relayed past T', each with Reply-From, the final 4.04 too",
                payloads + " " + got);
        List<Integer> numbers = got.stream().filter(r -> r.getOptions().hasObserve()).map(r -> r.getOptions().getObserve()).toList();
        boolean increasing = numbers.size() == 6;
        for (int i = 1; i < numbers.size(); i++) {
            increasing &= numbers.get(i) > numbers.get(i - 1);
        }
        check(increasing, "GPX_05 the proxy numbers the notifications on the client's relation (RFC 7641 5): increasing",
                numbers);
        Response gone = got.stream().filter(r -> "s1 gone".equals(r.getPayloadString())).findFirst().orElse(null);
        check(gone != null && gone.getCode() == ResponseCode.NOT_FOUND && !gone.getOptions().hasObserve()
                        && got.stream().filter(r -> r.getCode() == ResponseCode.CONTENT).allMatch(r -> r.getOptions().hasObserve()),
                "GPX_06 notifications keep Observe; the final non-2.xx has none", got);
        check(afterStop.isEmpty() && servers.get(1).resets.get() + servers.get(2).resets.get() >= resetsBefore + 2,
                "GPX_07 after an Early Stop the observation ends: later notifications are reset, not relayed",
                afterStop + " resets " + resetsBefore + " -> " + (servers.get(1).resets.get() + servers.get(2).resets.get()));
    }

    /** The hostile review's cases: non-members, T' = 0 with a full cache, unicast entries, an observation that never was. */
    private static void reviewChecks(Client client, List<Server> servers, Server outsider, ProxyServer proxy) throws Exception {
        client.send(client.request("coap://lights.example/nm", 1L, Hex.decode("e7"), CoAP.Type.NON));
        List<String> nm = payloadsOf(client.collect(1500));
        check(nm.equals(List.of("s1 nm")) && outsider.count("nm") == 1,
                "GPX_05 with the membership known, a non-member's response is not relayed", nm);
        String yaml = String.join("\n", "listen: [\"127.0.0.1:5603\"]", "forward_proxy: true",
                "groups: [{name: lights, host: lights.example, address: 224.0.1.187}]",
                "access: [{client: unauthenticated, allow: [{group: lights}]}]", "");
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "open.yaml", Path.of("."));
        try (ProxyServer open = new ProxyServer(cfg, List.of(), Map.of()).start()) {
            client.sendTo(client.request("coap://lights.example/nm", 1L, Hex.decode("e8"), CoAP.Type.NON),
                    new InetSocketAddress(addr("127.0.0.1"), 5603));
            List<String> both = payloadsOf(client.collect(1500));
            check(both.equals(List.of("s1 nm", "s9 nm")),
                    "GPX_05 positive control: without members configured the same response is relayed", both);
        }

        // T' = 0 relays nothing even when the cache could answer for every member
        client.send(client.request("coap://lights.example/cached", 0L, Hex.decode("e9"), CoAP.Type.NON));
        List<Message> zero = client.collect(1200);
        check(zero.isEmpty(), "GPX_06 T' = 0 with every member fresh in the cache: nothing relayed", zero);

        // unicast entries never answer a group request
        for (int port = 5701; port <= 5703; port++) {
            Request u = new Request(CoAP.Code.GET, CoAP.Type.CON);
            u.setMID(midCounter.incrementAndGet() & 0xffff);
            u.setToken(Token.fromProvider(Hex.decode("ea" + String.format("%02x", port - 5700))));
            u.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/uni");
            client.send(u);
            client.collect(600);
        }
        int groupUni = total(servers, "uni");
        client.send(client.request("coap://lights.example/uni", 1L, Hex.decode("eb"), CoAP.Type.NON));
        List<Response> uni = responses(client.collect(1500));
        check(total(servers, "uni") == groupUni + 3 && uni.size() == 3
                        && uni.stream().allMatch(r -> option(r, REPLY_FROM) != null && r.getPayloadString().endsWith("group")),
                "GPX_05 entries cached from unicast requests never answer a group request (forwarded, each with Reply-From)",
                uni);

        // an Observe registration nobody answers with a notification ends at T' like any other collection
        Request obs = client.request("coap://lights.example/light", 1L, Hex.decode("ec"), CoAP.Type.NON);
        obs.getOptions().setObserve(0);
        client.send(obs);
        List<Response> plainAnswers = responses(client.collect(1500));
        Thread.sleep(200);
        check(plainAnswers.size() == 3 && proxy.groupCollections() == 0 && proxy.metrics().observers().get() == 0,
                "GPX_06 a registration answered without Observe ends at T': no observation kept",
                plainAnswers.size() + " answers, " + proxy.groupCollections() + " collections, "
                        + proxy.metrics().observers().get() + " observers");
    }

    /** group_forwarding.max_responses bounds what one request turns into (the main proxy relays all three as control). */
    private static void maxResponsesCheck(Client client) throws Exception {
        String yaml = String.join("\n",
                "listen: [\"127.0.0.1:5602\"]",
                "forward_proxy: true",
                "groups: [{name: lights, host: lights.example, address: 224.0.1.187}]",
                "group_forwarding: {max_responses: 2}",
                "access: [{client: unauthenticated, allow: [{group: lights}]}]",
                "");
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "max.yaml", Path.of("."));
        try (ProxyServer bounded = new ProxyServer(cfg, List.of(), Map.of()).start()) {
            client.sendTo(client.request("coap://lights.example/light", 1L, Hex.decode("a5"), CoAP.Type.NON),
                    new InetSocketAddress(addr("127.0.0.1"), 5602));
            List<Response> two = responses(client.collect(1500));
            check(two.size() == 2 && bounded.metrics().groupDroppedCount() >= 1,
                    "GPX_05 max_responses 2: two of the three responses relayed, the third dropped", two);
        }
    }

    private static final int GROUP_ETAG = 24;

    static String groupEtagOf(Response r) {
        int n = 0;
        String v = null;
        for (Option o : r.getOptions().getOthers()) {
            if (o.getNumber() == GROUP_ETAG) {
                n++;
                v = Hex.encode(o.getValue());
            }
        }
        return n == 0 ? null : n == 1 ? v : "several";
    }

    static int total(List<Server> servers, String path) {
        return servers.stream().mapToInt(s -> s.count(path)).sum();
    }

    /** GPX-08, GPX-09: the cache for groups (members 5701-5703 are configured, so the proxy knows the membership). */
    private static void cacheChecks(Client client, List<Server> servers) throws Exception {
        client.send(client.request("coap://lights.example/cached", 1L, Hex.decode("f1"), CoAP.Type.NON));
        List<String> fill = payloadsOf(client.collect(1500));
        check(fill.equals(List.of("s1 v1", "s2 v1", "s3 v1")) && total(servers, "cached") == 3,
                "GPX_08 positive control: the first group request is forwarded and fills the cache", fill);

        client.send(client.request("coap://lights.example/cached", 1L, Hex.decode("f2"), CoAP.Type.NON));
        List<Response> fromCache = responses(client.collect(1500));
        java.util.Set<String> tags = new java.util.HashSet<>();
        boolean replyFrom = !fromCache.isEmpty();
        for (Response r : fromCache) {
            tags.add(String.valueOf(groupEtagOf(r)));
            Option o = option(r, REPLY_FROM);
            int server = Integer.parseInt(r.getPayloadString().substring(1, 2));
            replyFrom &= o != null && Hex.encode(o.getValue()).equals(replyFromHex(5700 + server));
        }
        check(payloadsOf(List.copyOf(fromCache)).equals(List.of("s1 v1", "s2 v1", "s3 v1")) && total(servers, "cached") == 3,
                "GPX_08 every member fresh in the cache: answered from the cache alone, nothing multicast",
                fromCache + " requests at servers " + total(servers, "cached"));
        check(replyFrom, "GPX_05 cached copies keep their Reply-From", fromCache);
        String tag = tags.size() == 1 ? tags.iterator().next() : null;
        check(tag != null && !tag.equals("null") && !tag.equals("several") && tag.length() == 16,
                "GPX_09 a cache-only answer offers one Group-ETag per response, the same for the set", tags);

        Request reval = client.request("coap://lights.example/cached", 1L, Hex.decode("f3"), CoAP.Type.NON);
        reval.getOptions().addOption(new Option(GROUP_ETAG, Hex.decode("0000000000000000")));
        reval.getOptions().addOption(new Option(GROUP_ETAG, tag == null || tag.length() != 16 ? new byte[] {1} : Hex.decode(tag)));
        client.send(reval);
        List<Message> valid = client.collect(1500);
        Response v = first(valid);
        check(valid.size() == 1 && v != null && v.getCode() == ResponseCode.VALID && v.getPayloadSize() == 0
                        && tag != null && tag.equals(groupEtagOf(v)) && total(servers, "cached") == 3,
                "GPX_09 a matching Group-ETag: exactly one 2.03 with that one Group-ETag and no payload", valid);
        Request wrong = client.request("coap://lights.example/cached", 1L, Hex.decode("f4"), CoAP.Type.NON);
        wrong.getOptions().addOption(new Option(GROUP_ETAG, Hex.decode("0102030405060708")));
        client.send(wrong);
        List<Response> wrongAnswers = responses(client.collect(1500));
        check(wrongAnswers.size() == 3 && wrongAnswers.stream().allMatch(r -> r.getCode() == ResponseCode.CONTENT),
                "GPX_09 positive control: a Group-ETag that does not match gets the three responses", wrongAnswers);

        // one member silent: no cache-only answer and no Group-ETag; a cached response with L < T' goes at once
        client.send(client.request("coap://lights.example/partial", 1L, Hex.decode("f5"), CoAP.Type.NON));
        List<String> partial1 = payloadsOf(client.collect(1500));
        client.send(client.request("coap://lights.example/partial", 5L, Hex.decode("f6"), CoAP.Type.NON));
        List<Message> partial2 = client.collect(5500);
        check(partial1.equals(List.of("s1 v1", "s2 v1")) && payloadsOf(partial2).equals(List.of("s1 v1", "s1 v2", "s2 v2"))
                        && total(servers, "partial") == 6,
                "GPX_08 a silent member: forwarded again; the entry with L < T' sent at once, the other not (its server "
                        + "answered before T')", partial1 + " then " + payloadsOf(partial2));
        check(responses(partial2).stream().allMatch(r -> groupEtagOf(r) == null),
                "GPX_09 no Group-ETag when the proxy could not answer from the cache alone", partial2);

        // a changed member entry gives a new Group-ETag
        client.send(client.request("coap://lights.example/short", 1L, Hex.decode("f7"), CoAP.Type.NON));
        client.collect(1500);
        client.send(client.request("coap://lights.example/short", 1L, Hex.decode("f8"), CoAP.Type.NON));
        List<Response> e2 = responses(client.collect(1200));
        String t1 = e2.isEmpty() ? null : groupEtagOf(e2.get(0));
        Thread.sleep(1000); // server 2's entry (Max-Age 2) is stale now
        client.send(client.request("coap://lights.example/short", 1L, Hex.decode("f9"), CoAP.Type.NON));
        List<String> e3 = payloadsOf(client.collect(1500));
        client.send(client.request("coap://lights.example/short", 1L, Hex.decode("fa"), CoAP.Type.NON));
        List<Response> e4 = responses(client.collect(1500));
        String t2 = e4.isEmpty() ? null : groupEtagOf(e4.get(0));
        check(t1 != null && t2 != null && !t1.equals(t2) && e3.equals(List.of("s1 v2", "s2 v2", "s3 v2"))
                        && payloadsOf(List.copyOf(e4)).equals(List.of("s1 v2", "s2 v2", "s3 v2")),
                "GPX_09 a changed member entry gives the set a new Group-ETag", t1 + " -> " + t2 + " " + e3);
    }

    static Response first(List<Message> ms) {
        List<Response> rs = responses(ms);
        return rs.isEmpty() ? null : rs.get(0);
    }

    static List<String> payloadsOf(List<? extends Message> ms) {
        List<String> out = new ArrayList<>();
        for (Message m : ms) {
            if (m instanceof Response r) {
                out.add(r.getPayloadString());
            }
        }
        java.util.Collections.sort(out);
        return out;
    }
}
