package dev.coterie.app;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.ReplyFrom;
import dev.coterie.oscore.RequestProtector;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * A group request through a proxy (groupcomm-proxy Section 5.1): one unicast request to the
 * proxy naming a group URI, with Multicast-Timeout T'; every response the proxy relays until T
 * (T' plus one second for the proxy's leg, digest 5.2) is printed with its Reply-From, its
 * sender and mode. It runs on a socket of its own: Californium ends a unicast exchange with its
 * first response, and here several come on one Token.
 *
 * <p>Layers are those of {@code layers}, innermost first (the end-to-end one, then the hop layer
 * for the proxy, OCP-01); every response has them removed in reverse (OCP-06), each with its own
 * Partial IV but possibly the first (OCP-07). With {@code stopAfter} it sends an Early Stop
 * Request (GET, the same Token, an empty Multicast-Timeout, no proxy options; in the hop layer
 * only) after that many responses.
 */
final class ProxiedGroupRun {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ACK_TIMEOUT_MS = 2000;

    private final ExtensionOptionRegistry registry;
    private final ProtectionPipeline pipeline;
    private final PrintStream out = System.out;
    private final PrintStream err = System.err;
    private final boolean trace;
    /** One line per response, as the arrows of a message-flow figure (the demo). */
    private final boolean figure;

    ProxiedGroupRun(ExtensionOptionRegistry registry, boolean trace) {
        this(registry, trace, false);
    }

    ProxiedGroupRun(ExtensionOptionRegistry registry, boolean trace, boolean figure) {
        this.registry = registry;
        this.pipeline = new ProtectionPipeline(registry, InnerObserve.EMPTY, true);
        this.trace = trace;
        this.figure = figure;
    }

    /**
     * @param request the request to the proxy, Proxy-Uri and Multicast-Timeout set, its type chosen
     * @param hop the hop layer for the proxy (the last of {@code layers}), or null
     * @return 0 when at least one response came (or T' = 0), 1 when one was an error, 2 for none
     */
    int run(Request request, List<RequestProtector> layers, RequestProtector hop, InetSocketAddress local, long tPrime,
            Integer stopAfter)
            throws Exception {
        InetSocketAddress proxy = request.getDestinationContext().getPeerAddress();
        byte[] token = new byte[8];
        RANDOM.nextBytes(token);
        request.setToken(Token.fromProvider(token));
        int mid = RANDOM.nextInt(65536);
        request.setMID(mid);
        ProtectionPipeline.LayeredRequest sealed;
        Request wire;
        try {
            sealed = layers.isEmpty() ? null : pipeline.protectRequest(request, layers, -1, null);
            wire = sealed == null ? request : sealed.wire();
        } catch (OscoreException e) {
            err.println("coterie client: request not sent: " + e.getMessage());
            return 2;
        }
        wire.setToken(request.getToken());
        wire.setMID(mid);
        wire.setType(request.getType());
        byte[] bytes = new UdpDataSerializer().getByteArray(wire);
        UdpDataParser parser = new UdpDataParser(false, registry.californiumRegistry());
        int relayed = 0;
        boolean errors = false;
        try (DatagramSocket socket = new DatagramSocket(local)) {
            socket.send(new DatagramPacket(bytes, bytes.length, proxy));
            line(trace ? "C ---> P  " + request.getCode() + " Token " + Hex.encode(token) + " Multicast-Timeout " + tPrime
                    + (layers.isEmpty() ? " (unprotected)" : " (" + layers.size() + " OSCORE layer(s))") : null);
            long start = System.nanoTime();
            long deadline = start + (tPrime + 1) * 1_000_000_000L;
            boolean answered = request.getType() != CoAP.Type.CON;
            int sends = 1;
            long nextResend = start + ACK_TIMEOUT_MS * 1_000_000L;
            Set<String> seen = new HashSet<>();
            byte[] buf = new byte[65536];
            while (true) {
                long now = System.nanoTime();
                if (now >= deadline) {
                    break;
                }
                if (!answered && now >= nextResend && sends < 5) {
                    socket.send(new DatagramPacket(bytes, bytes.length, proxy)); // CON retransmission, same MID
                    sends++;
                    nextResend = now + (ACK_TIMEOUT_MS << (sends - 1)) * 1_000_000L;
                }
                long waitNs = Math.min(deadline, answered ? deadline : nextResend) - now;
                socket.setSoTimeout((int) Math.max(1, waitNs / 1_000_000L));
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                Message m;
                try {
                    m = parser.parseMessage(Arrays.copyOf(buf, p.getLength()));
                } catch (RuntimeException e) {
                    continue;
                }
                if (m.getType() == CoAP.Type.ACK && m.getMID() == mid) {
                    answered = true;
                }
                if (!(m instanceof Response r) || !Arrays.equals(r.getTokenBytes(), token)) {
                    continue;
                }
                answered = true;
                if (r.getType() == CoAP.Type.CON) {
                    byte[] ack = {0x60, 0, (byte) (r.getMID() >> 8), (byte) r.getMID()};
                    socket.send(new DatagramPacket(ack, 4, p.getSocketAddress()));
                }
                if (r.getType() != CoAP.Type.ACK && !seen.add(r.getType() + "/" + r.getMID())) {
                    continue; // a retransmission
                }
                r.setSourceContext(new org.eclipse.californium.elements.AddressEndpointContext(
                        (InetSocketAddress) p.getSocketAddress()));
                Response plain;
                String sender;
                // over a hop layer only what the layer verified counts: an outer Reply-From or Group-ETag is anyone's
                Option replyFrom = sealed == null ? replyFrom(r) : null;
                Option groupEtag = sealed == null ? option(r, ExtensionOptionRegistry.GROUP_ETAG) : null;
                try {
                    if (sealed != null && !r.getOptions().hasOscore() && r.isError()) {
                        // an error nobody protected (the proxy's, or one forged on the way): shown, never taken as verified
                        plain = r;
                        sender = "unprotected error response, not verified";
                    } else if (sealed == null) {
                        plain = r;
                        sender = "unprotected";
                    } else {
                        ProtectionPipeline.LayeredResponse lr = pipeline.unprotectResponse(r, sealed.identifiers());
                        plain = lr.plain();
                        // the proxy encrypts Reply-From in the hop layer: it is in the plaintext of a layer it removed
                        for (ProtectionPipeline.Unprotected<Response> step : lr.steps()) {
                            Option o = replyFrom(step.plain());
                            replyFrom = o != null ? o : replyFrom;
                            Option g = option(step.plain(), ExtensionOptionRegistry.GROUP_ETAG);
                            groupEtag = g != null ? g : groupEtag;
                        }
                        OscorePeer peer = lr.last().peer();
                        sender = lr.innermostLayer() > 0 ? "the proxy's own answer (hop layer)"
                                : peer == null || peer.kid() == null ? "verified"
                                : "member " + (peer.kid().length == 0 ? "''" : Hex.encode(peer.kid())) + " ("
                                        + peer.mode().label() + ")";
                    }
                } catch (OscoreException e) {
                    line("rejected a response: " + e.getMessage());
                    continue;
                }
                relayed++;
                errors |= !plain.isSuccess();
                print(relayed, plain, replyFrom, groupEtag, sender);
                if (stopAfter != null && relayed >= stopAfter) {
                    earlyStop(socket, proxy, token, hop);
                    break;
                }
            }
        }
        if (tPrime == 0) {
            line("Multicast-Timeout 0: the proxy relays nothing (" + relayed + " response(s))");
            return errors ? 1 : 0;
        }
        if (relayed == 0) {
            err.println("coterie client: no response within " + (tPrime + 1) + " s");
            return 2;
        }
        line(figure ? "            => " + relayed + " response(s)\n" : relayed + " response(s)");
        return errors ? 1 : 0;
    }

    /** GET, the same Token, an empty Multicast-Timeout, no proxy or URI options; protected for the proxy only. */
    private void earlyStop(DatagramSocket socket, InetSocketAddress proxy, byte[] token, RequestProtector hop)
            throws Exception {
        Request stop = new Request(CoAP.Code.GET, CoAP.Type.NON);
        stop.setToken(Token.fromProvider(token));
        stop.setMID(RANDOM.nextInt(65536));
        stop.getOptions().addOption(new Option(registry.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number(), new byte[0]));
        Request wire = hop == null ? stop : pipeline.protectRequest(stop, List.of(hop), -1, null).wire();
        wire.setToken(stop.getToken());
        wire.setMID(stop.getMID());
        wire.setType(CoAP.Type.NON);
        byte[] b = new UdpDataSerializer().getByteArray(wire);
        socket.send(new DatagramPacket(b, b.length, proxy));
        line("early stop sent (GET, the same Token, empty Multicast-Timeout)");
    }

    private Option replyFrom(Response r) {
        return option(r, ExtensionOptionRegistry.REPLY_FROM);
    }

    private Option option(Response r, String name) {
        int number = registry.byName(name).number();
        for (Option o : r.getOptions().getOthers()) {
            if (o.getNumber() == number) {
                return o;
            }
        }
        return null;
    }

    private void print(int n, Response plain, Option rf, Option groupEtag, String sender) {
        StringBuilder sb = new StringBuilder();
        String from;
        String followUp = null;
        try {
            ReplyFrom decoded = rf == null ? null : ReplyFrom.decode(rf.getValue());
            from = decoded == null ? "(no Reply-From)" : decoded.target().toUri();
            if (decoded != null && decoded.refAuthority() != null) {
                from += " for //" + decoded.refAuthority().host()
                        + (decoded.refAuthority().port() >= 0 ? ":" + decoded.refAuthority().port() : "");
            }
            followUp = decoded == null ? null : Hex.encode(rf.getValue());
        } catch (IllegalArgumentException e) {
            from = "(malformed Reply-From)";
        }
        if (figure) {
            byte[] body = plain.getPayload();
            line(String.format("      |<-- %s %s%s, Reply-From %s", plain.getCode(), plain.getCode().name(),
                    body == null || body.length == 0 ? "" : " \"" + ClientRun.payload(body) + "\"", from)
                    + (groupEtag != null ? ", Group-ETag " + Hex.encode(groupEtag.getValue()) : "")
                    + "\n      |        " + sender + (sender.startsWith("member") ? ", verified end to end" : ""));
            return;
        }
        sb.append("response ").append(n).append(" Reply-From ").append(from).append(", ").append(sender);
        if (groupEtag != null) {
            sb.append(", Group-ETag ").append(Hex.encode(groupEtag.getValue())).append(" (from the proxy's cache)");
        }
        sb.append(":\n");
        if (followUp != null) {
            sb.append("  (this server alone: --follow-up ").append(followUp).append(")\n");
        }
        sb.append(plain.getCode()).append(' ').append(plain.getCode().name());
        for (Option o : plain.getOptions().asSortedList()) {
            sb.append("\n  ").append(o.getDefinition() == null ? "option " + o.getNumber() : o.getDefinition().getName())
                    .append(": ").append(o.toValueString());
        }
        byte[] p = plain.getPayload();
        if (p != null && p.length > 0) {
            sb.append('\n').append(ClientRun.payload(p));
        }
        line(sb.toString());
    }

    private void line(String s) {
        if (s != null) {
            synchronized (out) {
                out.println(s);
            }
        }
    }
}
