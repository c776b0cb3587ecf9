package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.MapBasedEndpointContext;

/**
 * A server's stored deterministic phantom requests (observe-multicast-notifications Appendix D,
 * OMN-13), for the early check of its OSCORE layer: an incoming request is one of them when its
 * transport-independent bytes (the outer code, the outer options and the payload, that is the
 * ciphertext: code ‖ options ‖ 0xFF ‖ payload, digest 6.2) are byte for byte those of a stored
 * phantom. Such a request gets no Group OSCORE processing: the layer delivers, in its place, the
 * plain phantom the server itself composed (with the incoming Token, type, Message ID and source),
 * marked {@link #isRecognised recognised}, and lets its response go out unprotected (App. D: the
 * informative response MUST NOT be protected). A request that differs in any byte is not a
 * phantom here; it is processed as any other OSCORE request.
 *
 * <p>The comparison uses the bytes as they came off the wire when the message has them (a UDP
 * datagram: its code byte and everything after the Token), so that an option encoded otherwise
 * (an Observe 0 sent as one zero byte) does not match; a message built in memory is compared by
 * its {@link TransportIndependent#encode encoding}.
 */
public final class DeterministicPhantoms {
    private static final org.eclipse.californium.elements.Definition<String> RECOGNISED =
            new org.eclipse.californium.elements.Definition<>("*COTERIE_DETERMINISTIC_PHANTOM", String.class,
                    MapBasedEndpointContext.ATTRIBUTE_DEFINITIONS);

    private final Map<String, Request> stored = new ConcurrentHashMap<>();
    private final int max;

    /** @param max how many deterministic phantoms may be stored at once (one per group-observed resource) */
    public DeterministicPhantoms(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("at least one deterministic phantom");
        }
        this.max = max;
    }

    /**
     * Stores a phantom: {@code transportIndependent} is the protected deterministic request as it
     * goes on the wire (code FETCH, outer options, ciphertext), {@code plain} the plain request the
     * server composed (GET, Observe 0, Uri-Path ...), which is what a recognised request is
     * delivered as.
     */
    public synchronized void store(byte[] transportIndependent, Request plain) {
        String k = Hex.encode(transportIndependent);
        if (!stored.containsKey(k) && stored.size() >= max) {
            throw new IllegalStateException("already " + max + " deterministic phantoms stored");
        }
        stored.put(k, plain);
    }

    /** Forgets a phantom (its group observation ended). */
    public void remove(byte[] transportIndependent) {
        stored.remove(Hex.encode(transportIndependent));
    }

    public int size() {
        return stored.size();
    }

    /**
     * The transport-independent bytes of {@code m} (code, options, payload): from the datagram or
     * the RFC 8323 frame it came in when it has one, else its encoding. Which framing the bytes
     * have is decided by where they came from (a TCP or TLS endpoint context), never guessed from
     * the first byte: a TCP frame with Len 4 to 7 starts like a UDP version-1 header.
     */
    public static byte[] wireBytes(org.eclipse.californium.core.coap.Message m) {
        byte[] b = m.getBytes();
        if (b != null && m.getSourceContext() instanceof org.eclipse.californium.elements.TcpEndpointContext) {
            return b.length >= 2 ? fromFrame(b) : TransportIndependent.encode(m);
        }
        if (b != null && b.length >= 4 && (b[0] & 0xc0) == 0x40) { // CoAP over UDP, version 1
            int tkl = b[0] & 0x0f;
            if (tkl <= 8 && b.length >= 4 + tkl) {
                byte[] out = new byte[1 + b.length - 4 - tkl];
                out[0] = b[1];
                System.arraycopy(b, 4 + tkl, out, 1, b.length - 4 - tkl);
                return out;
            }
        }
        return TransportIndependent.encode(m);
    }

    /** Code, options and payload of an RFC 8323 frame: Len|TKL, 0/1/2/4 bytes of extended length, code, token, rest. */
    private static byte[] fromFrame(byte[] b) {
        int len = (b[0] & 0xff) >>> 4;
        int tkl = b[0] & 0x0f;
        int code = 1 + (len < 13 ? 0 : len == 13 ? 1 : len == 14 ? 2 : 4);
        int rest = code + 1 + tkl;
        if (tkl > 8 || rest > b.length) {
            return new byte[0]; // not a frame: matches no stored phantom (each has at least its code)
        }
        byte[] out = new byte[1 + b.length - rest];
        out[0] = b[code];
        System.arraycopy(b, rest, out, 1, b.length - rest);
        return out;
    }

    /**
     * The early check: the plain phantom to deliver in place of {@code received} when its bytes
     * are a stored phantom's, or null.
     */
    Request recognise(Request received) {
        byte[] ti = wireBytes(received);
        String k = Hex.encode(ti);
        Request plain = stored.get(k);
        if (plain == null) {
            return null;
        }
        Request r = new Request(plain.getCode(), received.getType());
        r.setOptions(new OptionSet(plain.getOptions()));
        r.setToken(received.getToken());
        r.setMID(received.getMID());
        EndpointContext src = received.getSourceContext();
        if (src != null) {
            r.setSourceContext(new MapBasedEndpointContext(src.getPeerAddress(), src.getVirtualHost(), null,
                    new MapBasedEndpointContext.Attributes().add(RECOGNISED, k)));
        }
        return r;
    }

    /** Whether the OSCORE layer recognised {@code r} as a stored deterministic phantom (and which one: {@link #phantomOf}). */
    public static boolean isRecognised(Request r) {
        return phantomOf(r) != null;
    }

    /** The transport-independent bytes of the stored phantom {@code r} was recognised as, or null. */
    public static byte[] phantomOf(Request r) {
        EndpointContext c = r == null ? null : r.getSourceContext();
        String k = c == null ? null : c.get(RECOGNISED);
        return k == null ? null : Hex.decode(k);
    }

    /** Whether {@code r} was recognised as exactly the phantom {@code transportIndependent}. */
    public static boolean isPhantom(Request r, byte[] transportIndependent) {
        byte[] p = phantomOf(r);
        return p != null && Arrays.equals(p, transportIndependent);
    }
}
