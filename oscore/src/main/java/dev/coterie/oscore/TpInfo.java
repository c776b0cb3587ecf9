package dev.coterie.oscore;

import dev.coterie.keystore.CborReader;
import dev.coterie.keystore.CborWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * The transport information of a group observation, 'tp_info' (observe-multicast-notifications
 * Section 4.2.1; digest 6.2, OMN-02): {@code [tpi_server, ? tpi_details]}, for CoAP over UDP
 * {@code [tpi_server, tpi_client, tpi_token]}. tpi_server is where notifications come from (the
 * server's address and port), tpi_client where they go (the group's), both a CRI of scheme and
 * authority only ("CRI-no-local"); tpi_token is the phantom request's Token. A tp_info of
 * tpi_server alone is the reverse-proxy flavour (multicast-notifications-proxy Section 9):
 * {@code client} and {@code token} are then null.
 *
 * <p>Encoding follows the draft's CDDL and the CRI format: the authority nested,
 * {@code [-1, [h'..', port]]}, the port left out when it is 5683. Decoding is strict except for
 * one documented leniency (digest Q-03): the draft's own examples write the authority flattened,
 * {@code [-1, h'..', port]}, and such a CRI is accepted as the same address so that an
 * implementation that followed the examples interoperates; {@link #flattened()} says which form
 * came. Addresses are IP literals only (a host name that may resolve to several transports is
 * refused, OMN-07), and no link-local or site-local address is accepted (OMN-02). Errors never
 * repeat the input bytes.
 */
public record TpInfo(InetSocketAddress server, InetSocketAddress client, byte[] token, boolean flattened) {

    /** The scheme-id of coap (CoAP over UDP), the one transport whose details are registered. */
    public static final long COAP = -1;
    static final int DEFAULT_PORT = 5683;

    public TpInfo {
        check(server, "tpi_server");
        if (client != null) {
            check(client, "tpi_client");
        }
        if ((client == null) != (token == null)) {
            throw new IllegalArgumentException("tp_info: tpi_client and tpi_token come together");
        }
        if (token != null && token.length > 8) {
            throw new IllegalArgumentException("tp_info: tpi_token is a CoAP Token of 0 to 8 bytes, not " + token.length);
        }
        token = token == null ? null : token.clone();
    }

    /** The CoAP-over-UDP form with the nested authority. */
    public static TpInfo udp(InetSocketAddress server, InetSocketAddress group, byte[] token) {
        return new TpInfo(server, group, token, false);
    }

    @Override
    public byte[] token() {
        return token == null ? null : token.clone();
    }

    /** The CBOR array, nested authority, default port left out (OMN-02). */
    public byte[] encode() {
        CborWriter w = new CborWriter(48);
        write(w);
        return w.toByteArray();
    }

    void write(CborWriter w) {
        w.array(client == null ? 1 : 3);
        cri(w, server);
        if (client != null) {
            cri(w, client);
            w.bytes(token);
        }
    }

    private static void cri(CborWriter w, InetSocketAddress a) {
        boolean port = a.getPort() != DEFAULT_PORT;
        w.array(2).integer(COAP).array(port ? 2 : 1).bytes(a.getAddress().getAddress());
        if (port) {
            w.integer(a.getPort());
        }
    }

    /** A tp_info array alone (the value of Listen-To-Multicast-Responses, MNP-01). */
    public static TpInfo decode(byte[] cbor, String what) {
        CborReader r = new CborReader(cbor, what);
        TpInfo t = read(r);
        r.end();
        return t;
    }

    static TpInfo read(CborReader r) {
        int n = r.readArrayHeader();
        if (n < 1) {
            throw r.error("tp_info needs at least tpi_server");
        }
        boolean[] flat = new boolean[1];
        InetSocketAddress server = cri(r, "tpi_server", flat);
        if (n == 1) {
            return new TpInfo(server, null, null, flat[0]);
        }
        if (n != 3) {
            throw r.error("tp_info for CoAP over UDP is [tpi_server, tpi_client, tpi_token], not " + n + " elements");
        }
        InetSocketAddress client = cri(r, "tpi_client", flat);
        if (r.peekMajorType() != CborReader.BYTES) {
            throw r.error("tpi_token must be a byte string, found " + r.peekKind());
        }
        byte[] token = r.readBytes();
        if (token.length > 8) {
            throw r.error("tpi_token is a CoAP Token of 0 to 8 bytes, not " + token.length);
        }
        try {
            return new TpInfo(server, client, token, flat[0]);
        } catch (IllegalArgumentException e) {
            throw r.error(e.getMessage());
        }
    }

    /** CRI-no-local: [scheme-id, authority], coap only, an IP literal host. */
    private static InetSocketAddress cri(CborReader r, String name, boolean[] flat) {
        int n = r.readArrayHeader();
        if (r.peekMajorType() != CborReader.NINT) {
            throw r.error(name + ": the scheme must be a scheme-id");
        }
        long scheme = r.readInteger();
        if (scheme != COAP) {
            throw r.error(name + ": scheme-id " + scheme + " is not coap (-1), the one transport with registered details");
        }
        byte[] ip;
        int port = DEFAULT_PORT;
        if (n == 2 && r.peekMajorType() == CborReader.ARRAY) {
            Cri.Authority a = Cri.authority(r);
            if (a.userinfo() != null || !a.isIp()) {
                throw r.error(name + ": the host must be an IP address (a host name may name several transports, OMN-07)");
            }
            if (a.zone() != null) {
                throw r.error(name + ": a zone identifier means a link-local address");
            }
            ip = a.ip();
            port = a.port() < 0 ? DEFAULT_PORT : a.port();
        } else if ((n == 2 || n == 3) && r.peekMajorType() == CborReader.BYTES) {
            flat[0] = true; // the draft's examples (digest Q-03)
            ip = r.readBytes();
            if (ip.length != 4 && ip.length != 16) {
                throw r.error(name + ": an IP address is 4 or 16 bytes, not " + ip.length);
            }
            if (n == 3) {
                long p = r.readInteger();
                if (p < 0 || p > 65535) {
                    throw r.error(name + ": port out of range");
                }
                port = (int) p;
            }
        } else {
            throw r.error(name + ": a CRI of scheme and authority only ([-1, [host, ?port]]), with no path");
        }
        try {
            InetSocketAddress a = new InetSocketAddress(InetAddress.getByAddress(ip), port);
            check(a, name);
            return a;
        } catch (UnknownHostException e) {
            throw r.error(name + ": not an IP address");
        } catch (IllegalArgumentException e) {
            throw r.error(e.getMessage());
        }
    }

    /** No link-local or site-local address (OMN-02), no wildcard, a real port. */
    static void check(InetSocketAddress a, String name) {
        InetAddress ip = a.getAddress();
        if (ip == null || a.isUnresolved()) {
            throw new IllegalArgumentException(name + ": an IP address is needed");
        }
        if (ip.isLinkLocalAddress() || ip.isSiteLocalAddress() && ip.getAddress().length == 16 || ip.isMCLinkLocal()
                || ip.isMCNodeLocal()) {
            throw new IllegalArgumentException(name + ": a link-local or site-local address is not allowed (OMN-02)");
        }
        if (ip.isAnyLocalAddress() || a.getPort() == 0) {
            throw new IllegalArgumentException(name + ": no wildcard address and no port 0");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TpInfo t && server.equals(t.server) && java.util.Objects.equals(client, t.client)
                && Arrays.equals(token, t.token);
    }

    @Override
    public int hashCode() {
        return List.of(server, client == null ? "" : client).hashCode() * 31 + Arrays.hashCode(token);
    }

    @Override
    public String toString() {
        return "tp_info[" + server + (client == null ? "" : " -> " + client + ", token " + dev.coterie.keystore.Hex.encode(token))
                + "]";
    }
}
