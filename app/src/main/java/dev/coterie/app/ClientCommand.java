package dev.coterie.app;

import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.RequestProtector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coterie client}: one request (or one observation), protected with an OSCORE context, a
 * Group OSCORE member's group mode, pairwise mode or deterministic requests, or, only when asked
 * with {@code --no-oscore}, sent in plaintext. Every combination is checked before anything is
 * loaded or sent; what is not implemented is refused with status 64, never approximated.
 */
@Command(name = "client", sortOptions = false,
        description = {"Send one protected CoAP request (or register one observation) and print the response(s).",
            "",
            "Exit status: 0 success; 1 an error response; 2 no response, too few answers or notifications, or not sent; "
                + "3 the security state is in use or unavailable; 64 a usage or configuration mistake (nothing sent)."},
        footer = {"", "--option values: NAME|NUMBER=hex:HEX, =uint:N, =text:TEXT or =empty, e.g. --option Uri-Query=text:a=1, "
            + "--option 65000=hex:0102, --option Size1=uint:128 (names from RFC 7252's registry and the extension options, any case)."})
final class ClientCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    /* ---------------------------------------------------------------- security */

    @Option(names = "--context", paramLabel = "FILE", description = "OSCORE security-context file")
    Path context;

    @Option(names = "--bundle", paramLabel = "FILE", description = "Group OSCORE member bundle (with --group, --member or --group-mode-unicast)")
    Path bundle;

    @Option(names = "--no-oscore", description = "send the request in plaintext: no OSCORE at all (never a fallback); "
            + "every request and response line says UNPROTECTED")
    boolean noOscore;

    @Option(names = "--group", description = "with --bundle: one NON request to the multicast group of the URI, in group mode "
            + "(or, with --deterministic, a deterministic request); prints every member's answer until --timeout or --expect")
    boolean group;

    @Option(names = "--group-mode-unicast", description = "with --bundle: a group-mode request to a unicast address "
            + "(GRP-28 says unicast uses pairwise mode: for tests against other implementations only)")
    boolean groupModeUnicast;

    @Option(names = "--member", paramLabel = "SID", description = "with --bundle: the Sender ID (hex) of the one server the request "
            + "is for: a pairwise request, or with --deterministic the server whose kid a response must carry or imply")
    String member;

    @Option(names = "--deterministic", description = "with --bundle: a deterministic request (cacheable OSCORE) in the name of "
            + "the group's Deterministic Client; GET or FETCH only; with --member SID (unicast) or --group (multicast)")
    boolean deterministic;

    @Option(names = "--pad-to", paramLabel = "N", description = "with --deterministic: pad the plaintext with the Padding option "
            + "to at least N bytes (default: no padding)")
    Integer padTo;

    @Option(names = "--no-inner-observe", description = "with --deterministic: leave out the inner Observe 0 the draft advises "
            + "(every client of a group must choose alike, or their requests differ)")
    boolean noInnerObserve;

    @Option(names = "--passphrase-env", paramLabel = "VAR", description = "environment variable holding the private key's passphrase")
    String passphraseEnv;

    @Option(names = "--provider", defaultValue = "default", paramLabel = "NAME", description = "crypto provider: default or bc")
    String provider;

    /* ---------------------------------------------------------------- the request */

    @Option(names = {"-m", "--method"}, defaultValue = "GET", paramLabel = "METHOD", description = "GET, POST, PUT, DELETE, FETCH, PATCH or IPATCH "
            + "(default ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--non", description = "send a NON request instead of CON (requests to a group are always NON)")
    boolean non;

    @Option(names = "--accept", paramLabel = "FORMAT", description = "Accept option: a Content-Format number or a media type "
            + "such as text/plain or application/cbor")
    String accept;

    @Option(names = "--content-format", paramLabel = "FORMAT", description = "Content-Format option of the request payload: "
            + "a number or a media type")
    String contentFormat;

    @Option(names = "--if-match", paramLabel = "ETAG", description = "If-Match option (hex ETag, \"\" for empty); repeatable")
    List<String> ifMatch = new ArrayList<>();

    @Option(names = "--if-none-match", description = "If-None-Match option")
    boolean ifNoneMatch;

    @Option(names = "--option", paramLabel = "NAME|NUMBER=VALUE", description = "any option: VALUE is hex:HEX, uint:N, "
            + "text:TEXT or empty; repeatable (see below)")
    List<String> genericOptions = new ArrayList<>();

    @Option(names = "--payload", paramLabel = "TEXT", description = "request payload (UTF-8 text)")
    String payload;

    @Option(names = "--payload-hex", paramLabel = "HEX", description = "request payload (bytes in hex)")
    String payloadHex;

    @Option(names = "--payload-file", paramLabel = "FILE", description = "request payload (the file's bytes)")
    Path payloadFile;

    /* ---------------------------------------------------------------- the exchange */

    @Option(names = "--observe", description = "register an observation (GET or FETCH), print N notifications, then deregister "
            + "with Observe 1 and the same Token")
    boolean observe;

    @Option(names = "--group-interface", paramLabel = "NAME", description = "with --observe: the network interface on which "
            + "to listen to a group observation's multicast notifications when the server answers with an informative "
            + "response (default: the one the system's routes choose)")
    String groupInterface;

    @Option(names = "--informative-format", paramLabel = "N", description = "with --observe: the Content-Format number of "
            + "application/informative-response+cbor (not assigned by IANA; default ${DEFAULT-VALUE})", defaultValue = "65000")
    int informativeFormat;

    @Option(names = "--notifications", paramLabel = "N", description = "with --observe: stop after N notifications "
            + "(to a group: N from each of --expect members; default 3)")
    Integer notifications;

    @Option(names = "--expect", paramLabel = "N", description = "with --group: stop once N members have answered "
            + "(fewer by --timeout: exit 2)")
    Integer expect;

    @Option(names = "--timeout", defaultValue = "10", paramLabel = "S", description = "seconds to wait (${DEFAULT-VALUE}); "
            + "a deregistration waits as long again")
    long timeout;

    @Option(names = "--proxy", paramLabel = "URI", description = "send the request to the forward proxy at coap://HOST[:PORT] "
            + "with the target in Proxy-Uri (RFC 7252 5.7.2); with --context the end-to-end layer keeps only scheme and "
            + "authority outer (RFC 8613 4.1.3.3)")
    String proxy;

    @Option(names = "--ticket", description = "with --proxy and --observe: this client does not listen to multicast. When the "
            + "server's informative response arrives through the proxy, send the proxy a ticket request "
            + "(multicast-notifications-proxy Section 4: ph_req, Observe 0, Proxy-Scheme/Uri-Host or Proxy-Uri, "
            + "Listen-To-Multicast-Responses with the exact tp_info) and take the notifications from the proxy over unicast. "
            + "With --no-oscore, or with --bundle --member (Group OSCORE: the phantom verified first, every relayed "
            + "notification verified against it)")
    boolean ticket;

    @Option(names = "--proxy-context", paramLabel = "FILE", description = "with --proxy: an OSCORE context shared with the proxy "
            + "(the hop layer, oscore-capable-proxies): Proxy-Uri and Hop-Limit are encrypted for the proxy. Alone, it is "
            + "the only layer; with --context or --bundle it is the outer layer over the end-to-end one (OSCORE-in-OSCORE)")
    Path proxyContext;

    @Option(names = "--multicast-timeout", paramLabel = "S", description = "with --proxy: a group request through the proxy "
            + "(groupcomm-proxy): the URI names a group, the proxy relays every response for S seconds (T'), each printed with "
            + "its Reply-From; 0 relays nothing and adds No-Response 26")
    Long multicastTimeout;

    @Option(names = "--follow-up", paramLabel = "HEX", description = "a follow-up to one server of a group request through "
            + "a proxy: HEX is the Reply-From value the response carried (printed with it). The URI gives the path and query. "
            + "A Reply-From with a reference (a reverse proxy standing in for each server) sends the request to the proxy with "
            + "the reference's Uri-Host and Uri-Port; one without goes to the server directly, or through --proxy")
    String followUp;

    @Option(names = "--stop-after", paramLabel = "N", description = "with --multicast-timeout: after N responses send the proxy "
            + "an Early Stop Request (GET, the same Token, an empty Multicast-Timeout)")
    Integer stopAfter;

    @Option(names = "--max-oscore-layers", defaultValue = "2", paramLabel = "N", description = "the most OSCORE layers one "
            + "request may get (${DEFAULT-VALUE}); a request that needs more is not sent (OCP-04)")
    int maxOscoreLayers;

    @Option(names = "--bind", paramLabel = "ADDR:PORT", description = "local address of the client socket (default: any, port chosen)")
    String bind;

    @Option(names = "--trace", description = "print every message as a message-flow trace")
    boolean trace;

    @Option(names = "--tls-trust", paramLabel = "FILE", description = "with a coaps+tcp URI: the PEM certificate(s) the "
            + "server's certificate must chain to (owner-only); the URI's host is sent as SNI and must be in the certificate")
    Path tlsTrust;

    @picocli.CommandLine.Mixin
    TcpOptions.Frame tcpFrame = new TcpOptions.Frame();

    @Parameters(index = "0", paramLabel = "URI", description = "coap://HOST[:PORT]/PATH[?QUERY]; also coap+tcp:// and coaps+tcp:// (RFC 8323)")
    String uri;

    @picocli.CommandLine.Mixin
    ExtensionOptionsMixin options = new ExtensionOptionsMixin();

    @Override
    public Integer call() throws Exception {
        ExtensionOptionRegistry registry = options.registry();
        checkSecurityChoice();
        Code code = method();
        RequestShaper shape = RequestShaper.parse(registry, !noOscore, accept, contentFormat, ifMatch, ifNoneMatch,
                genericOptions, payload, payloadHex, payloadFile);
        Request request = new Request(code, Type.CON);
        org.eclipse.californium.core.coap.OptionSet followUpHost = null;
        if (followUp != null) {
            followUpHost = followUp(); // rewrites uri to the server (or the proxy standing in for it)
        }
        try {
            if (proxy == null) {
                request.setURI(uri);
            } else {
                // the proxy resolves the target (a group's name may mean nothing here): only its syntax is checked
                java.net.URI u = new java.net.URI(uri);
                if (u.getScheme() == null || u.getHost() == null) {
                    throw new IllegalArgumentException("expected coap://HOST[:PORT]/PATH");
                }
            }
        } catch (IllegalArgumentException | java.net.URISyntaxException e) {
            throw new IllegalArgumentException("URI " + uri + ": " + e.getMessage());
        }
        shape.apply(request);
        if (followUpHost != null) {
            if (proxy != null) {
                throw new IllegalArgumentException("--follow-up: this Reply-From names a reverse proxy standing in for the "
                        + "server; the request goes to it, so drop --proxy");
            }
            if (followUpHost.hasUriHost()) {
                request.getOptions().setUriHost(followUpHost.getUriHost());
            }
            if (followUpHost.hasUriPort()) {
                request.getOptions().setUriPort(followUpHost.getUriPort());
            }
            List<String> path = new ArrayList<>(followUpHost.getUriPath());
            path.addAll(request.getOptions().getUriPath());
            request.getOptions().clearUriPath();
            path.forEach(request.getOptions()::addUriPath);
        }
        if (multicastTimeout != null && followUp != null) {
            throw new IllegalArgumentException("--follow-up is a unicast request: drop --multicast-timeout");
        }
        if (ticket && (proxy == null || !observe)) {
            throw new IllegalArgumentException("--ticket needs --proxy and --observe");
        }
        if (ticket && multicastTimeout != null) {
            throw new IllegalArgumentException("--ticket is an observation of one resource: drop --multicast-timeout");
        }
        if (ticket && (noOscore == (bundle != null) || bundle != null && (member == null || proxyContext != null))) {
            // the ticket request's outer message is the phantom itself, never protected again: unprotected phantoms with
            // --no-oscore, Group OSCORE ones (MNP-03) with --bundle --member, the registration end to end to that member
            throw new IllegalArgumentException("--ticket needs --no-oscore, or --bundle with --member (the Group OSCORE "
                    + "variant) and no --proxy-context");
        }
        if (proxy != null) {
            viaProxy(request);
        }
        if (multicastTimeout != null) {
            return proxiedGroup(request, registry);
        }
        if (stopAfter != null) {
            throw new IllegalArgumentException("--stop-after needs --multicast-timeout");
        }
        boolean multicast = request.getDestinationContext().getPeerAddress().getAddress().isMulticastAddress();
        checkExchange(code, multicast);
        request.setType(multicast || non ? Type.NON : Type.CON);
        if (observe) {
            request.setObserve();
        }
        InetSocketAddress local = bind == null ? new InetSocketAddress(0) : localAddress(bind);
        ClientRun.Settings s = new ClientRun.Settings(multicast, observe, notifications == null ? 3 : notifications,
                expect == null ? 0 : expect, timeout, trace, registry, groupInterface, informativeFormat,
                ticket ? java.net.URI.create(uri) : null);
        if (noOscore) {
            if (tcpFirstHop()) {
                ClientRun run = ClientRun.unprotected(s);
                org.eclipse.californium.elements.config.Configuration cfg = Endpoints.configuration();
                return run.run(request, () -> run.unprotectedEndpoint(new CoapEndpoint.Builder()
                        .setConnector(TcpOptions.clientConnector(uri, tlsTrust, cfg, tcpFrame.limits())), cfg));
            }
            return ClientRun.unprotected(s).run(request, local);
        }
        if (bundle == null) {
            return oscore(request, local, s); // --context, --proxy-context, or both
        }
        return group(request, local, s);
    }

    /**
     * Whether this client's own connection is coap+tcp or coaps+tcp: a TCP target URI reached
     * directly. Through --proxy (a coap:// proxy) the first hop is UDP, and the TCP target
     * travels in Proxy-Uri for the proxy to reach (RFC 8323 7, RFC 7252 5.7).
     */
    private boolean tcpFirstHop() {
        return proxy == null && TcpOptions.isTcp(uri);
    }

    /** Exactly one of --context, --bundle, --no-oscore, and the options that only fit one of them. */
    private void checkSecurityChoice() {
        if (tcpFirstHop()) {
            // Group OSCORE over TCP: pairwise mode to one member (--member) only
            for (String[] f : new String[][] {{"--bundle without --member", bundle != null && member == null ? "" : null},
                {"--deterministic", deterministic ? "" : null},
                {"--bind", bind}, {"--group-interface", groupInterface}}) {
                if (f[1] != null) {
                    throw new IllegalArgumentException(f[0] + " with a " + uri.substring(0, uri.indexOf(':'))
                            + " URI is not done yet (CoAP over TCP: --context, --bundle with --member (pairwise) or --no-oscore, "
                            + "straight to the server)");
                }
            }
        } else if (tlsTrust != null) {
            throw new IllegalArgumentException("--tls-trust is for coaps+tcp URIs");
        } else if (tcpFrame.given()) {
            throw new IllegalArgumentException("--tcp-frame-timeout and --tcp-max-message-size are for coap+tcp and coaps+tcp URIs");
        }
        if (proxyContext != null && proxy == null) {
            throw new IllegalArgumentException("--proxy-context needs --proxy");
        }
        if (maxOscoreLayers < 1) {
            throw new IllegalArgumentException("--max-oscore-layers must be at least 1");
        }
        if (proxyContext != null && noOscore) {
            throw new IllegalArgumentException("--proxy-context protects the request for the proxy; drop --no-oscore");
        }
        int choices = (context != null ? 1 : 0) + (bundle != null ? 1 : 0) + (noOscore ? 1 : 0);
        if (choices > 1 || (choices == 0 && proxyContext == null)) {
            throw new IllegalArgumentException("give one of --context (OSCORE), --bundle (Group OSCORE), --no-oscore (plaintext) "
                    + "or --proxy with --proxy-context (a hop layer only; with --context or --bundle, over the end-to-end layer)");
        }
        if (bundle == null) {
            for (String[] f : new String[][] {{"--group", group ? "" : null}, {"--group-mode-unicast", groupModeUnicast ? "" : null},
                {"--member", member}, {"--deterministic", deterministic ? "" : null}, {"--passphrase-env", passphraseEnv}}) {
                if (f[1] != null) {
                    throw new IllegalArgumentException(f[0] + " needs --bundle");
                }
            }
        } else {
            int modes = (group || groupModeUnicast ? 1 : 0) + (member != null ? 1 : 0);
            if (modes != 1) {
                throw new IllegalArgumentException("with --bundle give --group (a request to a multicast group), --member SID "
                        + "(one server: pairwise, or with --deterministic a deterministic request) or --group-mode-unicast");
            }
        }
        if (!deterministic && padTo != null) {
            throw new IllegalArgumentException("--pad-to needs --deterministic");
        }
        if (!deterministic && noInnerObserve) {
            throw new IllegalArgumentException("--no-inner-observe needs --deterministic");
        }
        if (padTo != null && (padTo < 0 || padTo > 65535)) {
            throw new IllegalArgumentException("--pad-to must be 0 to 65535");
        }
        if (deterministic && groupModeUnicast) {
            throw new IllegalArgumentException("--deterministic takes --member SID (unicast) or --group (multicast), "
                    + "not --group-mode-unicast");
        }
    }

    private Code method() {
        try {
            return Code.valueOf(method.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-m " + method + ": not a method (GET, POST, PUT, DELETE, FETCH, PATCH, IPATCH)");
        }
    }

    /** What the destination, the method and the exchange options must agree on; all before anything is loaded. */
    private void checkExchange(Code code, boolean multicast) {
        if (timeout < 1) {
            throw new IllegalArgumentException("--timeout must be at least 1 second");
        }
        if (notifications != null && !observe) {
            throw new IllegalArgumentException("--notifications needs --observe");
        }
        if (notifications != null && notifications < 1) {
            throw new IllegalArgumentException("--notifications must be at least 1");
        }
        if (observe && code != Code.GET && code != Code.FETCH) {
            throw new IllegalArgumentException("--observe needs GET or FETCH (RFC 7641, RFC 8132), not " + code);
        }
        if (deterministic && code != Code.GET && code != Code.FETCH) {
            throw new IllegalArgumentException("--deterministic needs a safe method, GET or FETCH (cacheable OSCORE), not " + code
                    + "; nothing was sent");
        }
        if (deterministic && observe) {
            throw new IllegalArgumentException("--observe with --deterministic is not implemented");
        }
        if (noOscore && multicast) {
            throw new IllegalArgumentException("--no-oscore to a multicast group is not implemented");
        }
        if (group && !multicast && deterministic) {
            throw new IllegalArgumentException("--group: " + destination(uri) + " is a unicast address; a deterministic request "
                    + "to one server takes --member SID");
        }
        if (group && !multicast && !groupModeUnicast) {
            throw new IllegalArgumentException("--group: " + destination(uri) + " is a unicast address; unicast requests use "
                    + "pairwise mode (--member SID, GRP-28); add --group-mode-unicast to send group mode to it anyway");
        }
        if (groupModeUnicast && multicast) {
            throw new IllegalArgumentException("--group-mode-unicast: " + destination(uri) + " is a multicast address; use --group");
        }
        if (member != null && multicast) {
            throw new IllegalArgumentException("--member: " + destination(uri) + " is a multicast address; a request for one "
                    + "member goes to its unicast address (to the group: --group)");
        }
        if (expect != null && !(group && multicast)) {
            throw new IllegalArgumentException("--expect needs --group with a multicast address");
        }
        if (expect != null && expect < 1) {
            throw new IllegalArgumentException("--expect must be at least 1");
        }
    }

    /** The request goes to the proxy; the URI it named travels in Proxy-Uri. */
    private void viaProxy(Request request) {
        java.net.URI p;
        try {
            p = new java.net.URI(proxy);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("--proxy " + proxy + ": not a URI");
        }
        if (!"coap".equalsIgnoreCase(p.getScheme()) || p.getHost() == null
                || (p.getRawPath() != null && !p.getRawPath().isEmpty() && !p.getRawPath().equals("/"))) {
            throw new IllegalArgumentException("--proxy " + proxy + ": expected coap://HOST[:PORT]");
        }
        String host = p.getHost().startsWith("[") ? p.getHost().substring(1, p.getHost().length() - 1) : p.getHost();
        InetSocketAddress to;
        try {
            to = new InetSocketAddress(java.net.InetAddress.getByName(host), p.getPort() < 0 ? 5683 : p.getPort());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--proxy " + proxy + ": cannot resolve " + host);
        }
        if (to.getAddress().isMulticastAddress()) {
            throw new IllegalArgumentException("--proxy " + proxy + ": a proxy has a unicast address");
        }
        org.eclipse.californium.core.coap.OptionSet o = request.getOptions();
        o.removeUriHost();
        o.removeUriPort();
        o.clearUriPath();
        o.clearUriQuery();
        o.setProxyUri(uri);
        request.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(to));
    }

    private static InetSocketAddress localAddress(String bind) {
        InetSocketAddress a;
        try {
            a = Endpoints.parse(bind);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--bind " + bind + ": expected ADDR:PORT, e.g. 127.0.0.1:0 or [::1]:5690");
        }
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("--bind " + bind + ": cannot resolve " + a.getHostString());
        }
        return a;
    }

    private static String destination(String uri) {
        try {
            java.net.URI u = new java.net.URI(uri);
            return u.getHost() == null ? uri : u.getHost();
        } catch (java.net.URISyntaxException e) {
            return uri;
        }
    }

    /**
     * OSCORE from --context (end to end), --proxy-context (the hop layer for the proxy), or both:
     * the end-to-end layer first, the hop layer over it (OCP-01).
     */
    private int oscore(Request request, InetSocketAddress local, ClientRun.Settings s) throws Exception {
        OpenState state = new OpenState();
        try {
            List<RequestProtector> layers = new ArrayList<>();
            if (context != null) {
                OscoreContext ctx = state.open(() -> ContextFile.load(context, CryptoProviders.byName(provider)), c -> c::close);
                if (ctx == null) {
                    return 3;
                }
                layers.add(ctx.protector());
            }
            if (!hopLayer(state, layers)) {
                return 3;
            }
            ClientRun run = ClientRun.protectedBy(s, "OSCORE", false);
            org.eclipse.californium.elements.config.Configuration cfg = Endpoints.configuration();
            OscoreEndpointBuilder eb = new OscoreEndpointBuilder().bind(local)
                    .configuration(cfg).extensions(s.registry()).maxOscoreLayers(maxOscoreLayers)
                    .clientBinding(new ClientContextBinding().endpointDefaultLayers(layers));
            if (tcpFirstHop()) {
                eb.connector(TcpOptions.clientConnector(uri, tlsTrust, cfg, tcpFrame.limits()));
            }
            eb.trace(run.securityTrace());
            return state.close(run.run(request, eb::build));
        } catch (Exception | Error e) {
            state.closeQuietly(); // an IOException too: every state opened so far is saved
            throw e;
        }
    }

    /**
     * --follow-up (groupcomm-proxy Section 5.4, GPX-13): the Reply-From value decides where the
     * request goes. Without a reference it names the server: the URI's authority becomes it.
     * With one (a reverse proxy standing in for each server) the URI's authority becomes the
     * proxy's and the reference's host, port (none for a port it leaves out) and path are
     * returned, for Uri-Host, Uri-Port and the leading Uri-Path segments.
     *
     * @return the options from the reference, or null when there is none
     */
    private org.eclipse.californium.core.coap.OptionSet followUp() {
        dev.coterie.oscore.ReplyFrom rf;
        try {
            rf = dev.coterie.oscore.ReplyFrom.decode(dev.coterie.keystore.Hex.decode(followUp));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--follow-up: not a Reply-From value (" + e.getMessage() + ")");
        }
        java.net.URI u;
        try {
            u = new java.net.URI(uri);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("URI " + uri + ": " + e.getMessage());
        }
        dev.coterie.oscore.Cri.Authority a = rf.target().authority();
        String authority = a.host() + (a.port() >= 0 ? ":" + a.port() : "");
        uri = rf.target().schemeName() + "://" + authority + (u.getRawPath() == null ? "" : u.getRawPath())
                + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        if (rf.refAuthority() == null) {
            return null;
        }
        org.eclipse.californium.core.coap.OptionSet o = new org.eclipse.californium.core.coap.OptionSet();
        String host = rf.refAuthority().host();
        o.setUriHost(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        if (rf.refAuthority().port() >= 0) {
            o.setUriPort(rf.refAuthority().port());
        }
        rf.refPath().forEach(o::addUriPath);
        return o;
    }

    /**
     * A group request through the proxy (--proxy with --multicast-timeout): the end-to-end layer
     * from --bundle (group mode, or deterministic) or --context, the hop layer from
     * --proxy-context, or none with --no-oscore.
     */
    private int proxiedGroup(Request request, ExtensionOptionRegistry registry) throws Exception {
        if (proxy == null) {
            throw new IllegalArgumentException("--multicast-timeout needs --proxy");
        }
        if (multicastTimeout < 0 || multicastTimeout > 0xffffffffL) {
            throw new IllegalArgumentException("--multicast-timeout must be 0 to 4294967295 seconds");
        }
        if (stopAfter != null && stopAfter < 1) {
            throw new IllegalArgumentException("--stop-after must be at least 1");
        }
        if (observe || member != null || groupModeUnicast || expect != null) {
            throw new IllegalArgumentException("--multicast-timeout takes neither --observe, --member, --group-mode-unicast "
                    + "nor --expect");
        }
        if (bundle != null && !group) {
            throw new IllegalArgumentException("--multicast-timeout with --bundle needs --group (group mode through the proxy)");
        }
        request.getOptions().addOption(new org.eclipse.californium.core.coap.Option(
                registry.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number(), multicastTimeout));
        if (multicastTimeout == 0) {
            request.getOptions().setNoResponse(26); // groupcomm-proxy 5.1: T' = 0 with No-Response 26
        }
        request.setType(non ? Type.NON : Type.CON);
        InetSocketAddress local = bind == null ? new InetSocketAddress(0) : localAddress(bind);
        OpenState state = new OpenState();
        try {
            List<RequestProtector> layers = new ArrayList<>();
            if (context != null) {
                OscoreContext ctx = state.open(() -> ContextFile.load(context, CryptoProviders.byName(provider)), c -> c::close);
                if (ctx == null) {
                    return 3;
                }
                layers.add(ctx.protector());
            } else if (bundle != null) {
                char[] pass = passphraseEnv == null ? null : GroupCommand.requireEnv(passphraseEnv).toCharArray();
                GroupContext ctx = state.open(() -> dev.coterie.app.group.MemberBundle.load(bundle,
                        CryptoProviders.byName(provider), pass), c -> c::close);
                if (ctx == null) {
                    return 3;
                }
                layers.add(view(ctx, registry, null));
            }
            if (!hopLayer(state, layers)) {
                return 3;
            }
            if (layers.size() > maxOscoreLayers) {
                throw new IllegalArgumentException("the request needs " + layers.size() + " OSCORE layers, more than "
                        + "--max-oscore-layers " + maxOscoreLayers + " (OCP-04); nothing was sent");
            }
            RequestProtector hop = proxyContext == null ? null : layers.get(layers.size() - 1);
            return state.close(new ProxiedGroupRun(registry, trace).run(request, layers, hop, local, multicastTimeout,
                    stopAfter));
        } catch (Exception | Error e) {
            state.closeQuietly();
            throw e;
        }
    }

    /** With --proxy-context, the hop layer for the proxy, added last (outermost). False: the context could not be opened. */
    private boolean hopLayer(OpenState state, List<RequestProtector> layers) throws Exception {
        if (proxyContext == null) {
            return true;
        }
        OscoreContext hop = state.open(() -> ContextFile.load(proxyContext, CryptoProviders.byName(provider)), c -> c::close);
        if (hop == null) {
            return false;
        }
        layers.add(RequestProtector.forProxy(hop.protector()));
        return true;
    }

    private int group(Request request, InetSocketAddress local, ClientRun.Settings s) throws Exception {
        char[] pass = passphraseEnv == null ? null : GroupCommand.requireEnv(passphraseEnv).toCharArray();
        OpenState state = new OpenState();
        try {
            GroupContext ctx = state.open(() -> dev.coterie.app.group.MemberBundle.load(bundle, CryptoProviders.byName(provider),
                    pass), c -> c::close);
            if (ctx == null) {
                return 3;
            }
            // one epoch database for this run: the requests' responses and a group observation's notifications are
            // verified with the same epochs (GRP-21); this command installs no new epoch while it runs
            dev.coterie.grouposcore.GroupContextDb epochs = new dev.coterie.grouposcore.GroupContextDb().add(ctx);
            RequestProtector view = view(ctx, s.registry(), epochs);
            List<RequestProtector> layers = new ArrayList<>(List.of(view));
            if (!hopLayer(state, layers)) {
                return 3;
            }
            if (groupModeUnicast) {
                // GRP-28: nothing binds a group-mode answer to the addressed server
                System.err.println("coterie client: warning: --group-mode-unicast: any member of the group can answer in the "
                        + "name of " + destination(uri) + "; the member that did is printed with each answer (GRP-28)");
            }
            ClientRun run = ClientRun.protectedBy(s, view.mode().label(), true);
            if (s.observe()) {
                // an informative response may start a group observation protected with this group (OMN-10)
                run.groupObservations(new dev.coterie.grouposcore.GroupObservationProtection(ctx, epochs,
                        new dev.coterie.oscore.ProtectionPipeline(s.registry())));
            }
            GroupEndpointBuilder eb = new GroupEndpointBuilder().bind(local).extensions(s.registry())
                    .maxOscoreLayers(maxOscoreLayers)
                    .clientBinding(new ClientContextBinding().endpointDefaultLayers(layers));
            if (tcpFirstHop()) {
                org.eclipse.californium.elements.config.Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
                eb.configuration(cfg).tcpConnector(TcpOptions.clientConnector(uri, tlsTrust, cfg, tcpFrame.limits()));
            }
            eb.trace(run.securityTrace());
            return state.close(run.run(request, eb::build));
        } catch (Exception | Error e) {
            state.closeQuietly(); // an IOException too: every state opened so far is saved
            throw e;
        }
    }

    /**
     * The security states this run opened (one per layer), closed together: each saves its
     * sequence numbers, and a second owner of a state is refused with status 3.
     */
    private static final class OpenState {
        private final List<AutoCloseableState> opened = new ArrayList<>();

        interface Opener<T> {
            T open() throws Exception;
        }

        /** The opened state, or null when it is unavailable (locked by another owner, unwritable): status 3. */
        <T> T open(Opener<T> opener, java.util.function.Function<T, AutoCloseableState> closer) throws Exception {
            T t;
            try {
                t = opener.open();
            } catch (StateUnavailableException e) {
                System.err.println("coterie client: " + e.getMessage());
                closeQuietly();
                return null;
            }
            opened.add(closer.apply(t));
            return t;
        }

        void closeQuietly() {
            for (AutoCloseableState c : opened) {
                ClientCommand.closeQuietly(c);
            }
            opened.clear();
        }

        /** Persists every state; if one fails the next run could reuse numbers, so it is status 3 whatever the exchange gave. */
        int close(int status) {
            int result = status;
            for (AutoCloseableState c : opened) {
                result = ClientCommand.close(c, result) == 3 ? 3 : result;
            }
            opened.clear();
            return result;
        }
    }

    /** The view the options name; every request of this endpoint (block-wise follow-ups, a deregistration) uses it. */
    private RequestProtector view(GroupContext ctx, ExtensionOptionRegistry registry,
                                  dev.coterie.grouposcore.GroupContextDb epochs) {
        byte[] sid = null;
        if (member != null) {
            try {
                sid = Hex.decode(member);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--member " + member + ": not a Sender ID in hex");
            }
        }
        if (deterministic) {
            if (ctx.deterministicSenderId() == null) {
                throw new IllegalArgumentException("--deterministic: " + bundle + " names no Deterministic Client (det_sender_id)");
            }
            return ctx.deterministic(sid, epochs, registry, !noInnerObserve, padTo == null ? 0 : padTo);
        }
        if (sid != null) {
            return ctx.pairwise(sid, epochs);
        }
        return ctx.groupMode(epochs);
    }

    private static void closeQuietly(AutoCloseableState ctx) {
        try {
            ctx.close();
        } catch (StateUnavailableException e) {
            System.err.println("coterie client: could not persist the security state: " + e.getMessage());
        }
    }

    /** Persists the state; if that fails the next run could reuse numbers, so it is status 3 whatever the exchange gave. */
    private static int close(AutoCloseableState ctx, int status) {
        try {
            ctx.close();
            return status;
        } catch (StateUnavailableException e) {
            System.err.println("coterie client: could not persist the security state: " + e.getMessage());
            return 3;
        }
    }

    @FunctionalInterface
    private interface AutoCloseableState {
        void close() throws StateUnavailableException;
    }

    /** For {@link ClientRun}: an endpoint built on demand, after the output is set up. */
    @FunctionalInterface
    interface EndpointFactory {
        CoapEndpoint build() throws IOException;
    }

}
