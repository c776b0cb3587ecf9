package dev.coterie.oscore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * Option classes (RFC 8613 Section 4.1) by option number and role, for every mode of the
 * pipeline:
 * <ul>
 * <li>class U, outer: Uri-Host, Uri-Port, Proxy-Scheme, Hop-Limit (oscore-capable-proxies
 *     Section 3), and registry options of class U (Multicast-Timeout, Reply-From, Proxy-Cri, ...);
 * <li>Proxy-Uri is split: scheme and authority stay outer, path and query go inside
 *     ({@link ProxyUriSplit});
 * <li>Observe is both: the outer copy steers intermediaries, the inner one is protected (empty in
 *     notifications unless {@link InnerObserve#MIRROR});
 * <li>Request-Hash is class U in a (deterministic) request and class I in its response, where it
 *     enters the AAD but is elided on the wire (cacheable-oscore Section 3.2);
 * <li>everything else, known or unknown, is class E.
 * </ul>
 * On receipt, outer Block1, Block2, Size1, Size2 and Echo are hop-by-hop options a proxy may
 * have added (RFC 8613 Section 4.1.3.4.2, RFC 9175 Section 2.2.2); they are kept apart from the
 * message and never mixed with the inner ones. Outer copies of class-E options are ignored (OSC-11).
 */
public final class OptionClassifier {
    /** Whether a message is a request or a response: Observe and Request-Hash depend on it. */
    public enum Role { REQUEST, RESPONSE }

    private static final Comparator<Option> BY_NUMBER = Comparator.comparingInt(Option::getNumber);
    private static final int HOP_LIMIT = 16;
    private static final int ECHO = 252;

    private final ExtensionOptionRegistry extensions;
    private final InnerObserve innerObserve;
    private final int requestHash;
    private final int proxyCri;

    public OptionClassifier(ExtensionOptionRegistry extensions, InnerObserve innerObserve) {
        this.extensions = extensions;
        this.innerObserve = innerObserve;
        this.requestHash = extensions.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        this.proxyCri = extensions.byName(ExtensionOptionRegistry.PROXY_CRI).number();
    }

    /** The options of a message to protect, sorted into inner and outer. */
    public static final class Split {
        /** Class-E options, sorted: they go into the plaintext. */
        public final List<Option> inner = new ArrayList<>();
        /** Class-U and class-I options, sorted: they travel on the outer message. */
        public final List<Option> outer = new ArrayList<>();
        /** Class-I options that enter the AAD. */
        public final List<Option> classI = new ArrayList<>();
    }

    /** The outer options of a received message that the receiver keeps. */
    public record Received(List<Option> classU, List<Option> hopByHop) {
    }

    /** Whether {@code number} is the Request-Hash option (its number is configurable). */
    public boolean isRequestHash(int number) {
        return number == requestHash;
    }

    public int requestHashNumber() {
        return requestHash;
    }

    /**
     * Sorts the options of a message to protect (Section 4.1). A message that already carries an
     * OSCORE option is refused: nesting is decided by the caller, never by accident (OSC-19).
     */
    public Split split(OptionSet options, Role role) throws OscoreException.ProtectionRefused {
        return split(options, role, false, false);
    }

    /**
     * Sorts the options of a message to protect with nesting on or off and, for a request,
     * whether the layer is for the proxy that is the next hop. With {@code nested}, an OSCORE
     * option already present (an inner layer's) is encrypted in this one (OSCORE-in-OSCORE).
     * With {@code forProxy}, the escalation algorithm of oscore-capable-proxies Section 2.2
     * applies to the options the proxy consumes: Proxy-Uri, Proxy-Cri, Proxy-Scheme,
     * Proxy-Scheme-Number, Hop-Limit, Request-Hash and Multicast-Timeout are encrypted whole (the proxy needs none
     * of them to remove the layer, and is their immediately next consumer), and Uri-Host and
     * Uri-Port too when a Proxy-Scheme or Proxy-Scheme-Number is present; otherwise they stay
     * outer for a reverse proxy.
     */
    public Split split(OptionSet options, Role role, boolean nested, boolean forProxy) throws OscoreException.ProtectionRefused {
        Split s = new Split();
        boolean proxyScheme = options.hasProxyScheme();
        if (forProxy && !proxyScheme) {
            int psn = extensions.byName(ExtensionOptionRegistry.PROXY_SCHEME_NUMBER).number();
            for (Option o : options.getOthers()) {
                proxyScheme |= o.getNumber() == psn; // not OptionSet.hasOption(int): it builds a definition per call
            }
        }
        for (Option opt : options.asSortedList()) {
            int n = opt.getNumber();
            if (forProxy && role == Role.REQUEST && escalates(n, proxyScheme)) {
                s.inner.add(opt);
                continue;
            }
            if (role == Role.RESPONSE && (n == extensions.byName(ExtensionOptionRegistry.REPLY_FROM).number()
                    || n == extensions.byName(ExtensionOptionRegistry.GROUP_ETAG).number()
                    || n == extensions.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number())) {
                // only a proxy adds Reply-From, Group-ETag and (in its 4.00 and 5.05) Multicast-Timeout, for the client, its next hop and immediately next consumer, which does
                // not need it to remove the layer: Section 2.2 steps 1-3-5-6-8 (or 1-4-6-8 for a proxy of a chain that
                // relays another's): encrypted in every layer that protects it (GPX-14)
                s.inner.add(opt);
                continue;
            }
            switch (n) {
                case OptionNumberRegistry.OSCORE:
                    if (nested) {
                        s.inner.add(opt);
                        break;
                    }
                    throw new OscoreException.ProtectionRefused("message already carries an OSCORE option");
                case OptionNumberRegistry.URI_HOST:
                case OptionNumberRegistry.URI_PORT:
                case OptionNumberRegistry.PROXY_SCHEME:
                case HOP_LIMIT:
                    s.outer.add(opt);
                    break;
                case OptionNumberRegistry.PROXY_URI:
                    splitProxyUri(opt.getStringValue(), s);
                    break;
                case OptionNumberRegistry.OBSERVE:
                    s.outer.add(opt);
                    // requests keep the value inside; notifications carry an empty inner Observe (4.1.3.5.2)
                    s.inner.add(role == Role.REQUEST || innerObserve == InnerObserve.MIRROR ? opt
                            : StandardOptionRegistry.OBSERVE.create(0));
                    break;
                default:
                    if (n == proxyCri) {
                        splitProxyCri(opt, s);
                        break;
                    }
                    switch (classOf(n, role)) {
                        case E: s.inner.add(opt); break;
                        case I: s.classI.add(opt); break;
                        default: s.outer.add(opt); break;
                    }
            }
        }
        s.inner.sort(BY_NUMBER);
        s.outer.sort(BY_NUMBER);
        return s;
    }

    /** Whether a request option is encrypted for the proxy that consumes it (Section 2.2 steps 1-8). */
    private boolean escalates(int n, boolean proxyScheme) {
        switch (n) {
            case OptionNumberRegistry.PROXY_URI:
            case OptionNumberRegistry.PROXY_SCHEME:
            case HOP_LIMIT:
                return true;
            case OptionNumberRegistry.URI_HOST:
            case OptionNumberRegistry.URI_PORT:
                return proxyScheme;
            default:
                // Multicast-Timeout and Group-ETag: the client adds them for the proxy that sends to the group (GPX-14)
                return n == proxyCri || n == requestHash
                        || n == extensions.byName(ExtensionOptionRegistry.PROXY_SCHEME_NUMBER).number()
                        || n == extensions.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number()
                        || n == extensions.byName(ExtensionOptionRegistry.GROUP_ETAG).number();
        }
    }

    /**
     * The class of an option that has no special handling. Request-Hash is U in requests and I
     * in responses; registry options have their registered class; every other option is E.
     */
    public OptionClass classOf(int number, Role role) {
        if (number == requestHash) {
            return role == Role.REQUEST ? OptionClass.U : OptionClass.I;
        }
        ExtensionOption ext = extensions.byNumber(number);
        return ext == null ? OptionClass.E : ext.oscoreClass();
    }

    private static void splitProxyUri(String proxyUri, Split s) throws OscoreException.ProtectionRefused {
        ProxyUriSplit.Parts parts;
        try {
            parts = ProxyUriSplit.split(proxyUri);
        } catch (IllegalArgumentException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
        s.outer.add(StandardOptionRegistry.PROXY_URI.create(parts.outerProxyUri()));
        s.inner.addAll(parts.uriPath());
        s.inner.addAll(parts.uriQuery());
    }

    /**
     * Proxy-Cri is split like Proxy-Uri (href Section 8.2.1, RFC 8613 Section 4.1.3.3): scheme and
     * authority stay outer as a Proxy-Cri, path and query become inner Uri-Path and Uri-Query.
     */
    private static void splitProxyCri(Option opt, Split s) throws OscoreException.ProtectionRefused {
        Cri cri;
        try {
            cri = Cri.decode(opt.getValue(), "Proxy-Cri");
        } catch (IllegalArgumentException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
        if (cri.authority() == null || cri.authority() == Cri.ROOTLESS) {
            throw new OscoreException.ProtectionRefused("Proxy-Cri needs an authority");
        }
        if (cri.authority().userinfo() != null) {
            throw new OscoreException.ProtectionRefused("Proxy-Cri must not carry user information");
        }
        if (cri.fragment() != null) {
            throw new OscoreException.ProtectionRefused("Proxy-Cri has a fragment");
        }
        s.outer.add(new Option(opt.getDefinition(), cri.schemeAndAuthority().encode()));
        for (String seg : cri.path()) {
            s.inner.add(new Option(StandardOptionRegistry.URI_PATH, uriPart(seg, "path segment")));
        }
        for (String arg : cri.query()) {
            s.inner.add(new Option(StandardOptionRegistry.URI_QUERY, uriPart(arg, "query argument")));
        }
    }

    /** A Uri-Path or Uri-Query value from a Proxy-Cri: at most 255 bytes (RFC 7252 Section 5.10). */
    private static byte[] uriPart(String text, String what) throws OscoreException.ProtectionRefused {
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length > 255) {
            throw new OscoreException.ProtectionRefused("a " + what + " of the Proxy-Cri is longer than 255 bytes");
        }
        return b;
    }

    /** The class-I options of a received message, for its AAD (Request-Hash is the pipeline's). */
    public List<Option> classIOptions(OptionSet outer, Role role) {
        List<Option> list = new ArrayList<>(0);
        for (Option opt : outer.getOthers()) {
            if (opt.getNumber() != requestHash && classOf(opt.getNumber(), role) == OptionClass.I) {
                list.add(opt);
            }
        }
        return list;
    }

    /** The outer options a receiver keeps: class U, and the hop-by-hop ones apart (see the class comment). */
    public Received onReceive(OptionSet outer, Role role) {
        List<Option> u = new ArrayList<>(4);
        List<Option> hop = new ArrayList<>(0);
        for (Option opt : outer.asSortedList()) {
            int n = opt.getNumber();
            switch (n) {
                case OptionNumberRegistry.URI_HOST:
                case OptionNumberRegistry.URI_PORT:
                case OptionNumberRegistry.PROXY_SCHEME:
                case OptionNumberRegistry.PROXY_URI:
                case HOP_LIMIT:
                    u.add(opt);
                    break;
                case OptionNumberRegistry.BLOCK1:
                case OptionNumberRegistry.BLOCK2:
                case OptionNumberRegistry.SIZE1:
                case OptionNumberRegistry.SIZE2:
                case ECHO:
                    hop.add(opt);
                    break;
                case OptionNumberRegistry.OSCORE:
                case OptionNumberRegistry.OBSERVE:
                    break;
                default:
                    if (n != requestHash && extensions.byNumber(n) != null && classOf(n, role) == OptionClass.U) {
                        u.add(opt);
                    }
            }
        }
        return new Received(u, hop);
    }
}
