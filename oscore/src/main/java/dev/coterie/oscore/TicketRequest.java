package dev.coterie.oscore;

import dev.coterie.keystore.CborReader;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;

/**
 * The client's ticket request (multicast-notifications-proxy Section 4.2, digest 7.3 step 2,
 * MNP-03): the phantom request's outer Code, outer options and payload copied from the ph_req
 * bytes as they are (ciphertext and countersignature in the Group OSCORE variant, never
 * looked into), outer Observe 0, proxy addressing naming the original request URI, and
 * Listen-To-Multicast-Responses carrying the exact tp_info bytes of the informative response.
 * The Token is the client's own.
 *
 * <p>Addressing: Proxy-Uri when the phantom's outer options carry no Uri-Host, Uri-Port,
 * Uri-Path or Uri-Query (the Group OSCORE phantom, whose Uri-Path is inner); otherwise
 * Proxy-Scheme with Uri-Host (and Uri-Port when not the default) next to the phantom's own
 * Uri-Path and Uri-Query (the unprotected phantom), since RFC 7252 5.10.2 forbids Proxy-Uri
 * together with Uri-* options. In that form the phantom's path and query must be the original
 * URI's.
 */
public final class TicketRequest {
    private TicketRequest() {
    }

    /**
     * The exact bytes of tp_info (key 0) inside an informative response payload, after the
     * strict decode of the whole payload; null when the payload has no tp_info.
     */
    public static byte[] tpInfoBytes(byte[] informativePayload) {
        InformativeResponse.decode(informativePayload); // strict: throws on anything malformed
        CborReader r = new CborReader(informativePayload, "informative response");
        int n = r.readMapHeader();
        Set<Object> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Object key = r.readMapKey(seen);
            if (key instanceof Long k && k == 0) {
                return r.readRawItem();
            }
            r.skipItem();
        }
        return null;
    }

    /**
     * Builds the ticket request.
     *
     * @param phReq the transport-independent phantom (code ‖ options ‖ 0xFF ‖ payload), as verified
     * @param tpInfo the tp_info bytes of the informative response, put in the option unchanged
     * @param original the URI of the client's original registration
     * @param token the client's own Token for the ticket request
     * @param ltmrNumber the number of Listen-To-Multicast-Responses (47 until IANA assigns one)
     * @throws IllegalArgumentException when ph_req or tp_info is malformed, or the phantom names
     *     another resource than {@code original}
     */
    public static Request build(byte[] phReq, byte[] tpInfo, URI original, Token token, int ltmrNumber, OptionRegistry registry) {
        TpInfo tp = TpInfo.decode(tpInfo, "tp_info");
        if (tp.client() == null) {
            throw new IllegalArgumentException("tp_info has no tpi_client and tpi_token: no proxy could listen for it");
        }
        Request ph = TransportIndependent.request(phReq, registry, "ph_req");
        if (original.getScheme() == null || original.getHost() == null) {
            throw new IllegalArgumentException("the original request URI needs a scheme and a host");
        }
        Request t = new Request(ph.getCode(), CoAP.Type.CON);
        t.setToken(token);
        OptionSet o = t.getOptions();
        OptionSet po = ph.getOptions();
        for (Option opt : po.asSortedList()) {
            if (opt.getNumber() != OptionNumberRegistry.OBSERVE) {
                o.addOption(opt);
            }
        }
        o.setObserve(0);
        boolean uriOptions = po.hasUriHost() || po.hasUriPort() || po.getURIPathCount() > 0 || po.getURIQueryCount() > 0;
        String host = original.getHost();
        if (!uriOptions) {
            o.setProxyUri(original.toASCIIString());
        } else {
            if (!path(original).equals(po.getUriPath()) || !query(original).equals(po.getUriQuery())) {
                throw new IllegalArgumentException("the phantom request is for another resource than " + original.getPath());
            }
            String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            if (po.hasUriHost() && !po.getUriHost().equalsIgnoreCase(bare) || po.hasUriPort() && po.getUriPort() != port(original)) {
                throw new IllegalArgumentException("the phantom request names another host or port than " + host);
            }
            o.setProxyScheme(original.getScheme());
            if (!po.hasUriHost()) {
                o.setUriHost(bare);
            }
            if (!po.hasUriPort() && original.getPort() >= 0 && original.getPort() != defaultPort(original.getScheme())) {
                o.setUriPort(original.getPort());
            }
        }
        org.eclipse.californium.core.coap.option.OptionDefinition def = registry.getDefinitionByNumber(ltmrNumber);
        // with the registry's definition, so that traces and checks name it (same bytes either way)
        o.addOption(def == null ? new Option(ltmrNumber, tpInfo.clone()) : new Option(def, tpInfo.clone()));
        byte[] p = ph.getPayload();
        if (p != null && p.length > 0) {
            if (!t.isIntendedPayload()) {
                t.setUnintendedPayload();
            }
            t.setPayload(p.clone());
        }
        return t;
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : defaultPort(u.getScheme());
    }

    private static int defaultPort(String scheme) {
        return "coaps".equalsIgnoreCase(scheme) ? 5684 : 5683;
    }

    private static List<String> path(URI u) {
        List<String> out = new ArrayList<>();
        String p = u.getPath();
        if (p == null || p.isEmpty() || p.equals("/")) {
            return out;
        }
        for (String s : p.substring(1).split("/", -1)) {
            out.add(s);
        }
        return out;
    }

    private static List<String> query(URI u) {
        List<String> out = new ArrayList<>();
        String q = u.getQuery();
        if (q == null || q.isEmpty()) {
            return out;
        }
        for (String s : q.split("&", -1)) {
            out.add(s);
        }
        return out;
    }
}
