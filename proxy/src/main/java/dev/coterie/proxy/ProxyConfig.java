package dev.coterie.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.keystore.Hex;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The proxy's one configuration file (YAML), checked field by field: an unknown field, a wrong
 * type or an out-of-range value is a {@link ConfigException} naming the file and the field.
 * Security contexts live in their own files (the same context files {@code coterie client} and
 * {@code coterie server} use), named here by path relative to this file. docs/configuration.md,
 * "Proxy", documents every field.
 */
public record ProxyConfig(
        List<InetSocketAddress> listen,
        InetSocketAddress upstreamBind,
        boolean forwardProxy,
        int maxOscoreLayers,
        List<ClientHop> clientHops,
        List<OriginHop> originHops,
        Origin nextProxy,
        List<Route> routes,
        List<AccessRule> access,
        Limits limits,
        CacheLimits cache,
        InetSocketAddress admin,
        boolean fastPath,
        List<Group> groups,
        GroupForwarding groupForwarding,
        Http http,
        GroupObservations groupObservations,
        List<InetSocketAddress> listenTcp,
        Tls tls,
        dev.coterie.oscore.tcp.TcpLimits tcp,
        UpstreamTcp upstreamTcp,
        Path source) {

    /**
     * How the proxy reaches coap+tcp and coaps+tcp origins (RFC 8323): the limits of its upstream
     * connections, the PEM certificates a coaps+tcp origin's certificate must chain to (none: no
     * coaps+tcp origin is reached, 5.02), and how many coaps+tcp origin hosts it keeps a TLS client
     * for at once (one per host, for server name indication and the name check).
     */
    public record UpstreamTcp(dev.coterie.oscore.tcp.TcpLimits limits, Path trust, int maxTlsOrigins) {
        public static final int DEFAULT_MAX_TLS_ORIGINS = 16;
        public static final UpstreamTcp DEFAULTS = new UpstreamTcp(dev.coterie.oscore.tcp.TcpLimits.DEFAULTS, null,
                DEFAULT_MAX_TLS_ORIGINS);
    }

    /**
     * The coaps+tcp listeners (RFC 8323), or none: TLS on {@code listen} with the key and
     * certificate chain of the PKCS#12 {@code keystore} (owner-only), its password in the
     * environment variable {@code keystorePassEnv} (never in this file); with {@code clientTrust}
     * (PEM certificates), every client must present a certificate that chains to one of them, and
     * that certificate is the client's identity in {@link #access()} when no hop layer was removed.
     */
    public record Tls(List<InetSocketAddress> listen, Path keystore, String keystorePassEnv, Path clientTrust) {
    }

    /**
     * Taking part in group observations for observers behind this proxy
     * (multicast-notifications-proxy Section 3, unprotected variant), or null: off, and an
     * informative response goes to the observer as it came. On: the proxy takes an informative
     * response to a registration it forwarded, listens to the group on {@code networkInterface}
     * (null: the system chooses by its routes), and fans each notification out to its observers of
     * that resource, at most {@code maxObservers} of them per group observation (waiting ones
     * too), in at most {@code maxJoined} group observations at once (each a socket and a thread).
     * A Feedback-Divider in an unprotected multicast notification is answered by the proxy itself
     * (multicast-notifications-proxy Section 5: it counts as one client) after a random part of
     * {@code feedbackLeisureMs}, and never relayed.
     */
    public record GroupObservations(String networkInterface, int contentFormat, int maxObservers, int maxJoined,
                                    int feedbackLeisureMs) {
    }

    /**
     * The HTTP-to-CoAP front end (RFC 8075), or none: HTTP/1.1 on {@code listen}, Hosting HTTP
     * URIs {@code pathPrefix + target CoAP URI} (the default template {+tu}), request bodies up
     * to {@code maxBodyBytes}, at most {@code maxConnections} connections at once, a connection
     * closed after {@code idleTimeoutSeconds} without traffic and without a request in progress.
     * Its clients are never authenticated (no TLS here): they are the client "unauthenticated"
     * of {@link #access()}, which the configuration must say in so many words (HC-08).
     */
    public record Http(InetSocketAddress listen, String pathPrefix, int maxBodyBytes, int maxConnections,
                       int idleTimeoutSeconds) {
    }

    /**
     * A CoAP group the proxy may forward to (groupcomm-proxy Section 5.2): clients name it by
     * {@code host} (a name or the multicast address, as in the group URI) and {@code port}; the
     * proxy sends to {@code address}, out of {@code networkInterface} when one is given (null:
     * the route's). {@code members} are the servers' unicast addresses the proxy knows, or null
     * when it does not know the membership.
     */
    public record Group(String name, String host, InetAddress address, int port, String networkInterface,
                        List<InetSocketAddress> members) {
        /** Whether a checked target (IP literals in canonical form, names in lower case) names this group. */
        public boolean matches(Origin o) {
            return o.port() == port && (o.host().equals(host) || o.host().equals(address.getHostAddress()));
        }
    }

    /**
     * How the proxy runs group collections: the largest Multicast-Timeout it honours (a larger
     * one is cut to it) and how long a Token of a group request stays unused after its
     * collection ended (MIN_TOKEN_REUSE_TIME, groupcomm-bis Section 3.2.1; GCB-03).
     */
    public record GroupForwarding(int maxMulticastTimeoutSeconds, int tokenReuseSeconds, int tokensRemembered,
                                  int maxObservationSeconds, boolean throughNextProxy, int chainMarginSeconds,
                                  int maxResponses, int maxCacheAgeSeconds, int maxCollectionsPerClient) {
    }

    public static final GroupForwarding DEFAULT_GROUP_FORWARDING = new GroupForwarding(60, 500, 100_000, 3600, false, 1, 256,
            300, 16);

    /**
     * A client↔proxy hop: the context in {@code context} verifies requests from the source
     * addresses {@code sources} lists, and from any source when {@code sources} is null (OCP-09).
     */
    public record ClientHop(Path context, List<SourcePrefix> sources) {
        public boolean anySource() {
            return sources == null;
        }
    }

    /** The context files of {@link #clientHops()}, in order. */
    public List<Path> clientContexts() {
        return clientHops.stream().map(ClientHop::context).toList();
    }

    /** A proxy↔server hop: requests to {@code origin} are protected with the context in {@code context}. */
    public record OriginHop(Origin origin, Path context) {
    }

    /**
     * Host and port of an origin server, and the transport it is reached by: {@code coap} (UDP),
     * {@code coap+tcp} or {@code coaps+tcp} (RFC 8323). The scheme is part of the origin's identity:
     * coap://h:5683 and coap+tcp://h:5683 are different origins (for access, cache and hop contexts).
     */
    public record Origin(String host, int port, String scheme) {
        public static final String COAP = "coap";
        public static final String COAP_TCP = "coap+tcp";
        public static final String COAPS_TCP = "coaps+tcp";

        public Origin {
            if (!scheme.equals(COAP) && !scheme.equals(COAP_TCP) && !scheme.equals(COAPS_TCP)) {
                throw new IllegalArgumentException("not a proxied scheme: " + scheme);
            }
        }

        /** A coap:// (UDP) origin. */
        public Origin(String host, int port) {
            this(host, port, COAP);
        }

        /** The same host and port under {@code otherHost}. */
        public Origin withHost(String otherHost) {
            return new Origin(otherHost, port, scheme);
        }

        /** Whether this origin is reached over a TCP connection (coap+tcp, coaps+tcp). */
        public boolean tcp() {
            return !scheme.equals(COAP);
        }

        /** The default port of {@code scheme} (RFC 7252 6.1, RFC 8323 8.1/8.2). */
        public static int defaultPort(String scheme) {
            return scheme.equals(COAPS_TCP) ? 5684 : 5683;
        }

        /** {@code s} in lower case when it is a scheme this proxy forwards to, else null. */
        public static String proxied(String s) {
            String l = s.toLowerCase(java.util.Locale.ROOT);
            return l.equals(COAP) || l.equals(COAP_TCP) || l.equals(COAPS_TCP) ? l : null;
        }

        /** host:port for a coap origin (as before), scheme://host:port for the TCP ones. */
        @Override
        public String toString() {
            String hp = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
            return tcp() ? scheme + "://" + hp : hp;
        }
    }

    /**
     * A reverse-proxy route: a request whose Uri-Host equals {@code uriHost} (when given) and
     * whose path starts with {@code pathPrefix} (when given) goes to {@code origin}, with the
     * prefix removed when {@code stripPrefix}.
     */
    public record Route(String name, String uriHost, List<String> pathPrefix, Origin origin, boolean stripPrefix,
                        String group, boolean standInForServers) {
        public Route(String name, String uriHost, List<String> pathPrefix, Origin origin, boolean stripPrefix) {
            this(name, uriHost, pathPrefix, origin, stripPrefix, null, false);
        }
    }

    /**
     * Who a rule is for, and who sent a request: one hop context's (kid context, kid); or a TLS
     * client certificate, by its subject ({@code tlsSubject}, the X.500 name in RFC 2253
     * canonical form) and the SHA-256 of its SubjectPublicKeyInfo ({@code tlsSpki}); or
     * unauthenticated clients. A rule names one of kid, subject or SPKI; a request's identity is
     * its hop context when the proxy removed a hop layer, else its TLS certificate (both subject
     * and SPKI), else unauthenticated.
     */
    public record ClientId(byte[] kidContext, byte[] kid, String tlsSubject, byte[] tlsSpki) {
        public static final ClientId UNAUTHENTICATED = new ClientId(null, null);

        public ClientId(byte[] kidContext, byte[] kid) {
            this(kidContext, kid, null, null);
        }

        /** A TLS client certificate's identity (a rule gives one of the two, a request both). */
        public static ClientId tls(String subject, byte[] spkiSha256) {
            return new ClientId(null, null, subject, spkiSha256);
        }

        /** The identity of a certificate: its subject (canonical) and the SHA-256 of its public key's encoding. */
        public static ClientId of(java.security.cert.X509Certificate cert) {
            try {
                return tls(cert.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.CANONICAL),
                        java.security.MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is not available", e);
            }
        }

        public boolean isUnauthenticated() {
            return kid == null && tlsSubject == null && tlsSpki == null;
        }

        /** Whether this names (or is) a TLS certificate identity. */
        public boolean isTls() {
            return kid == null && (tlsSubject != null || tlsSpki != null);
        }

        public boolean matches(byte[] otherKidContext, byte[] otherKid) {
            if (kid == null || otherKid == null) {
                return false;
            }
            byte[] a = kidContext == null ? new byte[0] : kidContext;
            byte[] b = otherKidContext == null ? new byte[0] : otherKidContext;
            return java.util.Arrays.equals(kid, otherKid) && java.util.Arrays.equals(a, b);
        }

        /** Whether this rule's client is {@code client} (a request's identity); unauthenticated only matches itself. */
        public boolean covers(ClientId client) {
            if (isUnauthenticated() || client.isUnauthenticated()) {
                return isUnauthenticated() && client.isUnauthenticated();
            }
            if (kid != null) {
                return matches(client.kidContext, client.kid);
            }
            if (!client.isTls()) {
                return false;
            }
            if (tlsSubject != null) {
                return tlsSubject.equals(client.tlsSubject);
            }
            return java.util.Arrays.equals(tlsSpki, client.tlsSpki);
        }

        @Override
        public String toString() {
            if (isTls()) {
                return (tlsSubject == null ? "" : "tls_subject=" + tlsSubject + " ")
                        + (tlsSpki == null ? "" : "tls_spki_sha256=" + Hex.encode(tlsSpki));
            }
            if (kid == null) {
                return "unauthenticated";
            }
            return "kid_context=" + (kidContext == null ? "" : Hex.encode(kidContext)) + " kid=" + Hex.encode(kid);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ClientId c && java.util.Arrays.equals(kid, c.kid)
                    && java.util.Arrays.equals(kidContext, c.kidContext) && java.util.Objects.equals(tlsSubject, c.tlsSubject)
                    && java.util.Arrays.equals(tlsSpki, c.tlsSpki);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * java.util.Arrays.hashCode(kid) + java.util.Arrays.hashCode(kidContext))
                    + java.util.Objects.hashCode(tlsSubject) * 7 + java.util.Arrays.hashCode(tlsSpki);
        }
    }

    /**
     * A target a client may reach: an origin (or any, "*"), or a configured group by name, and a
     * path prefix (empty: every path). "*" never covers a group: group forwarding is allowed per
     * group only (groupcomm-bis Section 3.5.1).
     */
    public record Target(Origin origin, List<String> pathPrefix, String group) {
        public boolean anyOrigin() {
            return origin == null && group == null;
        }
    }

    public record AccessRule(ClientId client, List<Target> allow) {
    }

    /**
     * Past a limit the proxy answers 5.03 with Max-Age {@code retryAfterSeconds}.
     * {@code requestsPerSecond} and {@code burst} form a token bucket per client (its identity, or
     * its address when unauthenticated); {@code clientsTracked} bounds those buckets.
     */
    public record Limits(int exchanges, int observers, int requestsPerSecond, int burst, int clientsTracked,
                         long upstreamTimeoutMs, int retryAfterSeconds, int hopLimit) {
    }

    /** Cache bounds: entries and bytes (keys, options and payloads counted), and whether it is on. */
    public record CacheLimits(boolean enabled, int maxEntries, long maxBytes) {
    }

    public static final Limits DEFAULT_LIMITS = new Limits(1000, 1000, 200, 400, 10_000, 10_000, 5, 16);
    public static final CacheLimits DEFAULT_CACHE = new CacheLimits(true, 10_000, 16L << 20);

    private static final Set<String> TOP = Set.of("listen", "upstream_bind", "forward_proxy", "max_oscore_layers",
            "client_contexts", "origin_contexts", "next_proxy", "routes", "access", "limits", "cache", "admin",
            "fast_path", "groups", "group_forwarding", "http", "group_observations", "listen_tcp", "listen_tls", "tcp", "upstream_tcp");

    /** Reads and checks {@code file}. */
    public static ProxyConfig load(Path file) throws ConfigException {
        String name = file.toString();
        JsonNode root;
        try {
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            yaml.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = yaml.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new ConfigException(name, null, "not valid YAML"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw new ConfigException(name, null, "cannot be read: " + e.getClass().getSimpleName());
        }
        return parse(root, name, file.toAbsolutePath().getParent());
    }

    /** Checks an already-read YAML or JSON tree; context paths are resolved against {@code base}. */
    public static ProxyConfig parse(JsonNode root, String name, Path base) throws ConfigException {
        Reader r = new Reader(name, base);
        if (root == null || !root.isObject()) {
            throw new ConfigException(name, null, "must be a mapping of fields (listen, routes, access, ...)");
        }
        r.onlyFields(root, "", TOP);
        List<InetSocketAddress> listen = new ArrayList<>();
        JsonNode l = root.get("listen");
        if (l == null) {
            listen.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), 5683));
        } else {
            for (JsonNode n : r.list(l, "listen")) {
                listen.add(r.address(n, "listen[" + listen.size() + "]"));
            }
            if (listen.isEmpty()) {
                throw new ConfigException(name, "listen", "needs at least one address");
            }
        }
        InetSocketAddress upstream = root.has("upstream_bind") ? r.address(root.get("upstream_bind"), "upstream_bind")
                : new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        boolean forward = r.bool(root, "forward_proxy", "forward_proxy", false);
        // the layers the proxy removes from one request: its clients' hop layer; more (a client
        // nesting two layers for this proxy) is refused with 4.01 (OCP-04)
        int layers = r.integer(root, "max_oscore_layers", "max_oscore_layers", 1, 0, 1);
        List<ClientHop> clients = new ArrayList<>();
        if (root.has("client_contexts")) {
            int i = 0;
            for (JsonNode n : r.list(root.get("client_contexts"), "client_contexts")) {
                String f = "client_contexts[" + i++ + "]";
                if (n.isTextual()) {
                    clients.add(new ClientHop(r.path(n, f), null));
                    continue;
                }
                if (!n.isObject()) {
                    throw new ConfigException(name, f, "must be a path, or {context: PATH, sources: [PREFIX, ...]}");
                }
                r.onlyFields(n, f, Set.of("context", "sources"));
                Path p = r.path(r.required(n, "context", f), f + ".context");
                clients.add(new ClientHop(p, n.has("sources") ? r.sources(n.get("sources"), f + ".sources") : null));
            }
        }
        if (layers == 0 && !clients.isEmpty()) {
            throw new ConfigException(name, "client_contexts", "max_oscore_layers is 0: the proxy removes no layer, "
                    + "so it cannot use client hop contexts");
        }
        List<OriginHop> hops = new ArrayList<>();
        if (root.has("origin_contexts")) {
            int i = 0;
            for (JsonNode n : r.list(root.get("origin_contexts"), "origin_contexts")) {
                String f = "origin_contexts[" + i++ + "]";
                r.onlyFields(n, f, Set.of("origin", "context"));
                hops.add(new OriginHop(r.udpOrigin(r.required(n, "origin", f), f + ".origin"),
                        r.path(r.required(n, "context", f), f + ".context")));
            }
        }
        Origin nextProxy = null;
        if (root.has("next_proxy") && !root.get("next_proxy").isNull()) {
            // a chain: forward-proxy requests go on to this proxy with their proxy options, over its hop layer if given
            JsonNode n = root.get("next_proxy");
            r.onlyFields(n, "next_proxy", Set.of("address", "context"));
            nextProxy = r.udpOrigin(r.required(n, "address", "next_proxy"), "next_proxy.address");
            if (!forward) {
                throw new ConfigException(name, "next_proxy", "only a forward proxy (forward_proxy: true) sends requests on "
                        + "to a next proxy");
            }
            if (n.has("context")) {
                for (OriginHop h : hops) {
                    if (h.origin().equals(nextProxy)) {
                        throw new ConfigException(name, "next_proxy.context", "origin_contexts already names a context for "
                                + nextProxy + "; give it once");
                    }
                }
                hops.add(new OriginHop(nextProxy, r.path(n.get("context"), "next_proxy.context")));
            }
        }
        List<Route> routes = new ArrayList<>();
        if (root.has("routes")) {
            int i = 0;
            for (JsonNode n : r.list(root.get("routes"), "routes")) {
                String f = "routes[" + i++ + "]";
                r.onlyFields(n, f, Set.of("name", "uri_host", "path_prefix", "origin", "strip_prefix", "group", "stand_in"));
                String rn = n.has("name") ? r.text(n.get("name"), f + ".name") : "route" + (i - 1);
                String host = n.has("uri_host") ? r.text(n.get("uri_host"), f + ".uri_host").toLowerCase(Locale.ROOT) : null;
                List<String> prefix = n.has("path_prefix") ? r.pathPrefix(n.get("path_prefix"), f + ".path_prefix") : List.of();
                if (host == null && prefix.isEmpty() && n.has("path_prefix") == false) {
                    throw new ConfigException(name, f, "needs uri_host, path_prefix or both");
                }
                if (n.has("group")) {
                    // a reverse proxy standing in for a group: the group is resolved once the groups are read
                    if (n.has("origin")) {
                        throw new ConfigException(name, f, "give origin or group, not both");
                    }
                    String standIn = n.has("stand_in") ? r.text(n.get("stand_in"), f + ".stand_in") : "group";
                    if (!standIn.equals("group") && !standIn.equals("servers")) {
                        throw new ConfigException(name, f + ".stand_in", "is group (for the group) or servers (for each server)");
                    }
                    routes.add(new Route(rn, host, prefix, null, r.bool(n, "strip_prefix", f + ".strip_prefix", false),
                            r.text(n.get("group"), f + ".group"), standIn.equals("servers")));
                    continue;
                }
                if (n.has("stand_in")) {
                    throw new ConfigException(name, f + ".stand_in", "only a route to a group stands in for it");
                }
                Origin o = r.origin(r.required(n, "origin", f), f + ".origin");
                routes.add(new Route(rn, host, prefix, o, r.bool(n, "strip_prefix", f + ".strip_prefix", false)));
            }
        }
        List<Group> groups = new ArrayList<>();
        if (root.has("groups")) {
            int i = 0;
            for (JsonNode n : r.list(root.get("groups"), "groups")) {
                String f = "groups[" + i++ + "]";
                r.onlyFields(n, f, Set.of("name", "host", "address", "port", "interface", "members"));
                String gn = r.text(r.required(n, "name", f), f + ".name");
                String at = f + ".address";
                InetAddress addr;
                String literal = r.text(r.required(n, "address", f), at);
                if (!ForwardTarget.looksNumeric(literal)) {
                    throw new ConfigException(name, at, "must be a multicast IP address, not a name");
                }
                try {
                    addr = InetAddress.getByName(literal);
                } catch (IOException e) {
                    throw new ConfigException(name, at, "is not an IP address");
                }
                if (!addr.isMulticastAddress()) {
                    throw new ConfigException(name, at, "must be a multicast address");
                }
                int port = r.integer(n, "port", f + ".port", 5683, 1, 65535);
                if (port == 5684) {
                    throw new ConfigException(name, f + ".port", "5684 (coaps) must not carry group communication (GCB-10)");
                }
                String host = n.has("host") ? r.text(n.get("host"), f + ".host").toLowerCase(Locale.ROOT)
                        : addr.getHostAddress();
                String nif = n.has("interface") ? r.text(n.get("interface"), f + ".interface") : null;
                if (nif != null) {
                    try {
                        if (java.net.NetworkInterface.getByName(nif) == null) {
                            throw new ConfigException(name, f + ".interface", "no network interface of that name here");
                        }
                    } catch (java.net.SocketException e) {
                        throw new ConfigException(name, f + ".interface", "the network interfaces cannot be listed");
                    }
                }
                List<InetSocketAddress> members = null;
                if (n.has("members")) {
                    members = new ArrayList<>();
                    int j = 0;
                    for (JsonNode m : r.list(n.get("members"), f + ".members")) {
                        String mf = f + ".members[" + j++ + "]";
                        InetSocketAddress a = r.address(m, mf);
                        if (a.getAddress().isMulticastAddress() || a.getAddress().isAnyLocalAddress() || a.getPort() == 0) {
                            throw new ConfigException(name, mf, "a member is a unicast address with a port");
                        }
                        if (members.contains(a)) {
                            throw new ConfigException(name, mf, "listed twice");
                        }
                        members.add(a);
                    }
                    members = List.copyOf(members);
                }
                for (Group g : groups) {
                    if (g.name().equals(gn)) {
                        throw new ConfigException(name, f + ".name", "the same name as an earlier group");
                    }
                    if (g.host().equals(host) && g.port() == port) {
                        throw new ConfigException(name, f + ".host", "the same host and port as group " + g.name());
                    }
                }
                groups.add(new Group(gn, host, addr, port, nif, members));
            }
        }
        for (int i = 0; i < routes.size(); i++) {
            Route rt = routes.get(i);
            if (rt.group() == null) {
                continue;
            }
            Group g = groups.stream().filter(x -> x.name().equals(rt.group())).findFirst().orElse(null);
            if (g == null) {
                throw new ConfigException(name, "routes[" + i + "].group", "no group of that name under groups");
            }
            if (rt.standInForServers() && (g.members() == null || g.members().isEmpty())) {
                throw new ConfigException(name, "routes[" + i + "].stand_in", "standing in for each server needs the group's "
                        + "members: follow-ups reach configured members only");
            }
            if (rt.standInForServers() && listen.stream().anyMatch(a -> a.getAddress().isAnyLocalAddress())) {
                throw new ConfigException(name, "routes[" + i + "].stand_in", "standing in for each server puts the proxy's "
                        + "own address in Reply-From: listen on specific addresses, not a wildcard");
            }
            routes.set(i, new Route(rt.name(), rt.uriHost(), rt.pathPrefix(), new Origin(g.host(), g.port()), rt.stripPrefix(),
                    rt.group(), rt.standInForServers()));
        }
        GroupForwarding gf = DEFAULT_GROUP_FORWARDING;
        if (root.has("group_forwarding")) {
            JsonNode n = root.get("group_forwarding");
            r.onlyFields(n, "group_forwarding", Set.of("max_multicast_timeout_s", "token_reuse_s", "tokens_remembered",
                    "max_observation_s", "through_next_proxy", "chain_margin_s", "max_responses", "max_cache_age_s",
                    "max_collections_per_client"));
            gf = new GroupForwarding(
                    r.integer(n, "max_multicast_timeout_s", "group_forwarding.max_multicast_timeout_s",
                            gf.maxMulticastTimeoutSeconds(), 1, 3600),
                    r.integer(n, "token_reuse_s", "group_forwarding.token_reuse_s", gf.tokenReuseSeconds(), 0, 86_400),
                    r.integer(n, "tokens_remembered", "group_forwarding.tokens_remembered", gf.tokensRemembered(), 1, 10_000_000),
                    r.integer(n, "max_observation_s", "group_forwarding.max_observation_s", gf.maxObservationSeconds(), 1,
                            86_400),
                    r.bool(n, "through_next_proxy", "group_forwarding.through_next_proxy", gf.throughNextProxy()),
                    r.integer(n, "chain_margin_s", "group_forwarding.chain_margin_s", gf.chainMarginSeconds(), 1, 600),
                    r.integer(n, "max_responses", "group_forwarding.max_responses", gf.maxResponses(), 1, 1_000_000),
                    r.integer(n, "max_cache_age_s", "group_forwarding.max_cache_age_s", gf.maxCacheAgeSeconds(), 1, 86_400),
                    r.integer(n, "max_collections_per_client", "group_forwarding.max_collections_per_client",
                            gf.maxCollectionsPerClient(), 1, 1_000_000));
        }
        List<AccessRule> access = new ArrayList<>();
        if (root.has("access")) {
            int i = 0;
            for (JsonNode n : r.list(root.get("access"), "access")) {
                String f = "access[" + i++ + "]";
                r.onlyFields(n, f, Set.of("client", "allow"));
                ClientId id = r.client(r.required(n, "client", f), f + ".client");
                List<Target> allow = new ArrayList<>();
                int j = 0;
                for (JsonNode t : r.list(r.required(n, "allow", f), f + ".allow")) {
                    String tf = f + ".allow[" + j++ + "]";
                    r.onlyFields(t, tf, Set.of("origin", "group", "path_prefix"));
                    List<String> prefix = t.has("path_prefix") ? r.pathPrefix(t.get("path_prefix"), tf + ".path_prefix")
                            : List.of();
                    if (t.has("group")) {
                        if (t.has("origin")) {
                            throw new ConfigException(name, tf, "give origin or group, not both");
                        }
                        String g = r.text(t.get("group"), tf + ".group");
                        if (groups.stream().noneMatch(x -> x.name().equals(g))) {
                            throw new ConfigException(name, tf + ".group", "no group of that name under groups");
                        }
                        allow.add(new Target(null, prefix, g));
                        continue;
                    }
                    JsonNode on = r.required(t, "origin", tf);
                    Origin o = on.isTextual() && on.asText().equals("*") ? null : r.origin(on, tf + ".origin");
                    allow.add(new Target(o, prefix, null));
                }
                for (AccessRule earlier : access) {
                    if (earlier.client().equals(id)) {
                        throw new ConfigException(name, f + ".client", "the same client as an earlier rule; merge them");
                    }
                }
                access.add(new AccessRule(id, List.copyOf(allow)));
            }
        }
        Limits limits = DEFAULT_LIMITS;
        if (root.has("limits")) {
            JsonNode n = root.get("limits");
            r.onlyFields(n, "limits", Set.of("exchanges", "observers", "requests_per_second", "burst", "clients_tracked",
                    "upstream_timeout_ms", "retry_after_s", "hop_limit"));
            Limits d = DEFAULT_LIMITS;
            limits = new Limits(
                    r.integer(n, "exchanges", "limits.exchanges", d.exchanges(), 1, 1_000_000),
                    r.integer(n, "observers", "limits.observers", d.observers(), 0, 1_000_000),
                    r.integer(n, "requests_per_second", "limits.requests_per_second", d.requestsPerSecond(), 1, 1_000_000),
                    r.integer(n, "burst", "limits.burst", d.burst(), 1, 10_000_000),
                    r.integer(n, "clients_tracked", "limits.clients_tracked", d.clientsTracked(), 1, 10_000_000),
                    r.integer(n, "upstream_timeout_ms", "limits.upstream_timeout_ms", (int) d.upstreamTimeoutMs(), 100, 600_000),
                    r.integer(n, "retry_after_s", "limits.retry_after_s", d.retryAfterSeconds(), 0, 3600),
                    r.integer(n, "hop_limit", "limits.hop_limit", d.hopLimit(), 1, 255));
        }
        CacheLimits cache = DEFAULT_CACHE;
        if (root.has("cache")) {
            JsonNode n = root.get("cache");
            r.onlyFields(n, "cache", Set.of("enabled", "max_entries", "max_bytes"));
            cache = new CacheLimits(r.bool(n, "enabled", "cache.enabled", true),
                    r.integer(n, "max_entries", "cache.max_entries", DEFAULT_CACHE.maxEntries(), 1, 100_000_000),
                    r.longInteger(n, "max_bytes", "cache.max_bytes", DEFAULT_CACHE.maxBytes(), 1024, 1L << 40));
        }
        InetSocketAddress admin = null;
        if (root.has("admin") && !root.get("admin").isNull()) {
            JsonNode n = root.get("admin");
            r.onlyFields(n, "admin", Set.of("listen"));
            admin = r.address(r.required(n, "listen", "admin"), "admin.listen");
            if (!admin.getAddress().isLoopbackAddress()) {
                throw new ConfigException(name, "admin.listen", "the admin endpoint listens on loopback only");
            }
        }
        Http http = null;
        if (root.has("http") && !root.get("http").isNull()) {
            http = http(r, root.get("http"), forward);
        }
        GroupObservations gobs = null;
        if (root.has("group_observations") && !root.get("group_observations").isNull()) {
            JsonNode n = root.get("group_observations");
            r.onlyFields(n, "group_observations", Set.of("interface", "content_format", "max_observers", "max_joined",
                    "feedback_leisure_ms"));
            String nif = n.has("interface") ? r.text(n.get("interface"), "group_observations.interface") : null;
            if (nif != null) {
                try {
                    if (java.net.NetworkInterface.getByName(nif) == null) {
                        throw new ConfigException(name, "group_observations.interface", "no network interface of that name here");
                    }
                } catch (java.net.SocketException e) {
                    throw new ConfigException(name, "group_observations.interface", "the network interfaces cannot be listed");
                }
            }
            gobs = new GroupObservations(nif,
                    r.integer(n, "content_format", "group_observations.content_format",
                            dev.coterie.oscore.InformativeResponse.DEFAULT_CONTENT_FORMAT, 0, 65535),
                    r.integer(n, "max_observers", "group_observations.max_observers", 1000, 1, 1_000_000),
                    r.integer(n, "max_joined", "group_observations.max_joined", 64, 1, 10_000),
                    r.integer(n, "feedback_leisure_ms", "group_observations.feedback_leisure_ms",
                            (int) dev.coterie.oscore.FeedbackAnswer.DEFAULT_LEISURE_MS, 0, 60_000));
        }
        List<InetSocketAddress> listenTcp = root.has("listen_tcp") ? r.addresses(root.get("listen_tcp"), "listen_tcp")
                : List.of();
        Tls tls = root.has("listen_tls") && !root.get("listen_tls").isNull() ? tls(r, root.get("listen_tls")) : null;
        dev.coterie.oscore.tcp.TcpLimits tcp = dev.coterie.oscore.tcp.TcpLimits.DEFAULTS;
        if (root.has("tcp")) {
            JsonNode n = root.get("tcp");
            r.onlyFields(n, "tcp", Set.of("max_connections", "idle_timeout_s", "frame_timeout_ms", "max_message_size"));
            if (listenTcp.isEmpty() && tls == null) {
                throw new ConfigException(name, "tcp", "sets the limits of listen_tcp and listen_tls, and neither is given");
            }
            dev.coterie.oscore.tcp.TcpLimits d = tcp;
            tcp = new dev.coterie.oscore.tcp.TcpLimits(
                    r.integer(n, "max_connections", "tcp.max_connections", d.maxConnections(), 1, 1_000_000),
                    r.integer(n, "idle_timeout_s", "tcp.idle_timeout_s", d.idleSeconds(), 1, 86_400),
                    r.longInteger(n, "frame_timeout_ms", "tcp.frame_timeout_ms", d.frameTimeoutMillis(), 100, 600_000),
                    r.integer(n, "max_message_size", "tcp.max_message_size", d.maxMessageSize(), 64, 8 << 20));
        }
        UpstreamTcp upTcp = UpstreamTcp.DEFAULTS;
        if (root.has("upstream_tcp") && !root.get("upstream_tcp").isNull()) {
            JsonNode n = root.get("upstream_tcp");
            // no max_connections: the client connectors do not count their connections (one per origin address; the
            // TLS clients are bounded by max_tls_origins), and a limit that is not enforced is not offered
            r.onlyFields(n, "upstream_tcp", Set.of("idle_timeout_s", "frame_timeout_ms", "max_message_size",
                    "trust", "max_tls_origins"));
            dev.coterie.oscore.tcp.TcpLimits d = dev.coterie.oscore.tcp.TcpLimits.DEFAULTS;
            dev.coterie.oscore.tcp.TcpLimits lim = new dev.coterie.oscore.tcp.TcpLimits(d.maxConnections(),
                    r.integer(n, "idle_timeout_s", "upstream_tcp.idle_timeout_s", d.idleSeconds(), 1, 86_400),
                    r.longInteger(n, "frame_timeout_ms", "upstream_tcp.frame_timeout_ms", d.frameTimeoutMillis(), 100, 600_000),
                    r.integer(n, "max_message_size", "upstream_tcp.max_message_size", d.maxMessageSize(), 64, 8 << 20));
            Path trust = null;
            if (n.has("trust") && !n.get("trust").isNull()) {
                trust = r.path(n.get("trust"), "upstream_tcp.trust");
                try {
                    dev.coterie.oscore.tcp.TlsFiles.client(trust, null, null); // readable, PEM certificates
                } catch (IOException e) {
                    throw r.error("upstream_tcp.trust", e.getMessage());
                }
            }
            upTcp = new UpstreamTcp(lim, trust, r.integer(n, "max_tls_origins", "upstream_tcp.max_tls_origins",
                    UpstreamTcp.DEFAULT_MAX_TLS_ORIGINS, 1, 10_000));
        }
        for (int i = 0; i < access.size(); i++) {
            if (access.get(i).client().isTls() && (tls == null || tls.clientTrust() == null)) {
                throw new ConfigException(name, "access[" + i + "].client", "a TLS client identity needs listen_tls with "
                        + "client_trust: without it no client presents a certificate");
            }
        }
        return new ProxyConfig(List.copyOf(listen), upstream, forward, layers, List.copyOf(clients), List.copyOf(hops),
                nextProxy, List.copyOf(routes), List.copyOf(access), limits, cache, admin,
                r.bool(root, "fast_path", "fast_path", true), List.copyOf(groups), gf, http, gobs, listenTcp, tls, tcp, upTcp, base);
    }

    private static Tls tls(Reader r, JsonNode n) throws ConfigException {
        r.onlyFields(n, "listen_tls", Set.of("listen", "keystore", "keystore_pass_env", "client_trust"));
        List<InetSocketAddress> listen = r.addresses(r.required(n, "listen", "listen_tls"), "listen_tls.listen");
        Path keystore = r.path(r.required(n, "keystore", "listen_tls"), "listen_tls.keystore");
        try {
            dev.coterie.keystore.OwnerOnlyFiles.requireOwnerOnly(keystore, "TLS key store");
        } catch (IOException e) {
            throw r.error("listen_tls.keystore", e.getMessage());
        }
        String env = r.text(r.required(n, "keystore_pass_env", "listen_tls"), "listen_tls.keystore_pass_env");
        if (!env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw r.error("listen_tls.keystore_pass_env", "must be the name of an environment variable (letters, digits, _)");
        }
        if (System.getenv(env) == null) {
            throw r.error("listen_tls.keystore_pass_env", "the environment variable " + env + " is not set");
        }
        Path trust = null;
        if (n.has("client_trust") && !n.get("client_trust").isNull()) {
            trust = r.path(n.get("client_trust"), "listen_tls.client_trust");
            try {
                dev.coterie.keystore.OwnerOnlyFiles.requireOwnerOnly(trust, "TLS trust store");
            } catch (IOException e) {
                throw r.error("listen_tls.client_trust", e.getMessage());
            }
        }
        Tls tls = new Tls(listen, keystore, env, trust);
        try {
            tlsContext(tls); // the key store opens with the password, the trust store has certificates
        } catch (IOException e) {
            // TlsFiles names the file and the problem, never the password
            throw r.error(e.getMessage().contains("trust store") ? "listen_tls.client_trust" : "listen_tls.keystore",
                    e.getMessage());
        }
        return tls;
    }

    /** The server TLS context of {@code tls}: its key store opened with the password from the environment. */
    public static javax.net.ssl.SSLContext tlsContext(Tls tls) throws IOException {
        String pass = System.getenv(tls.keystorePassEnv());
        if (pass == null) {
            throw new IOException("listen_tls.keystore_pass_env: the environment variable " + tls.keystorePassEnv()
                    + " is not set");
        }
        return dev.coterie.oscore.tcp.TlsFiles.server(tls.keystore(), pass.toCharArray(), tls.clientTrust());
    }

    /** The defaults of the http section's optional fields. */
    public static final int DEFAULT_HTTP_MAX_BODY = 64 * 1024;
    public static final int DEFAULT_HTTP_CONNECTIONS = 100;
    public static final int DEFAULT_HTTP_IDLE_S = 30;

    private static Http http(Reader r, JsonNode n, boolean forward) throws ConfigException {
        r.onlyFields(n, "http", Set.of("listen", "path_prefix", "max_body_bytes", "max_connections", "idle_timeout_s",
                "unauthenticated"));
        // RFC 8075 Section 12 (HC-08): an HC proxy authenticates its clients by default. This front end has no TLS and
        // no HTTP authentication, so it runs only where the file says that its clients go unauthenticated
        JsonNode u = n.get("unauthenticated");
        if (u == null || u.isNull() || !u.isTextual() || !u.asText().equals("allow")) {
            throw r.error("http.unauthenticated", "must be 'allow': the HTTP front end cannot authenticate its clients (no TLS "
                    + "or HTTP authentication yet), while RFC 8075 asks an HC proxy to authenticate by default; with 'allow' "
                    + "every HTTP client is the client 'unauthenticated' of access");
        }
        if (!forward) {
            throw r.error("http", "the HTTP front end maps every request to a forward-proxy request (Proxy-Uri): it needs "
                    + "forward_proxy: true");
        }
        String at = "http.listen";
        String text = r.text(r.required(n, "listen", "http"), at);
        Origin o = r.hostPort(text, at, -1);
        if (o.port() < 0) {
            throw r.error(at, "needs a port, e.g. 127.0.0.1:8080");
        }
        InetSocketAddress listen;
        try {
            listen = new InetSocketAddress(InetAddress.getByName(o.host()), o.port());
        } catch (IOException e) {
            throw r.error(at, "cannot resolve host " + o.host());
        }
        String prefix = n.has("path_prefix") ? r.text(n.get("path_prefix"), "http.path_prefix") : "/hc/";
        if (!prefix.startsWith("/") || !prefix.endsWith("/") || !prefix.matches("/[A-Za-z0-9._~!$&'()*+,;=:@/-]*")
                || prefix.contains("//")) {
            throw r.error("http.path_prefix", "must be an absolute path that starts and ends with /, e.g. /hc/ or /");
        }
        return new Http(listen, prefix,
                r.integer(n, "max_body_bytes", "http.max_body_bytes", DEFAULT_HTTP_MAX_BODY, 0, 16 << 20),
                r.integer(n, "max_connections", "http.max_connections", DEFAULT_HTTP_CONNECTIONS, 1, 100_000),
                r.integer(n, "idle_timeout_s", "http.idle_timeout_s", DEFAULT_HTTP_IDLE_S, 1, 3600));
    }

    /** Field readers that name the file and field in every error. */
    private static final class Reader {
        private final String file;
        private final Path base;

        Reader(String file, Path base) {
            this.file = file;
            this.base = base;
        }

        ConfigException error(String field, String why) {
            return new ConfigException(file, field, why);
        }

        void onlyFields(JsonNode n, String at, Set<String> allowed) throws ConfigException {
            if (!n.isObject()) {
                throw error(at, "must be a mapping");
            }
            Iterator<String> it = n.fieldNames();
            while (it.hasNext()) {
                String f = it.next();
                if (!allowed.contains(f)) {
                    throw error(at.isEmpty() ? f : at + "." + f, "unknown field; known: " + new java.util.TreeSet<>(allowed));
                }
            }
        }

        JsonNode required(JsonNode n, String field, String at) throws ConfigException {
            JsonNode v = n.get(field);
            if (v == null || v.isNull()) {
                throw error(at + "." + field, "is required");
            }
            return v;
        }

        List<JsonNode> list(JsonNode n, String at) throws ConfigException {
            if (!n.isArray()) {
                throw error(at, "must be a list");
            }
            List<JsonNode> out = new ArrayList<>();
            n.forEach(out::add);
            return out;
        }

        String text(JsonNode n, String at) throws ConfigException {
            if (!n.isTextual() || n.asText().isEmpty()) {
                throw error(at, "must be a non-empty string");
            }
            return n.asText();
        }

        boolean bool(JsonNode parent, String field, String at, boolean dflt) throws ConfigException {
            JsonNode n = parent.get(field);
            if (n == null) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw error(at, "must be true or false");
            }
            return n.asBoolean();
        }

        int integer(JsonNode parent, String field, String at, int dflt, int min, int max) throws ConfigException {
            return (int) longInteger(parent, field, at, dflt, min, max);
        }

        long longInteger(JsonNode parent, String field, String at, long dflt, long min, long max) throws ConfigException {
            JsonNode n = parent.get(field);
            if (n == null) {
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw error(at, "must be a whole number");
            }
            long v = n.asLong();
            if (v < min || v > max) {
                throw error(at, "must be between " + min + " and " + max + ", not " + v);
            }
            return v;
        }

        Path path(JsonNode n, String at) throws ConfigException {
            String s = text(n, at);
            Path p = base == null ? Path.of(s) : base.resolve(s);
            if (!Files.isRegularFile(p)) {
                throw error(at, "no such file: " + p);
            }
            return p;
        }

        /** A non-empty list of addresses, each once. */
        List<InetSocketAddress> addresses(JsonNode n, String at) throws ConfigException {
            List<InetSocketAddress> out = new ArrayList<>();
            for (JsonNode item : list(n, at)) {
                String f = at + "[" + out.size() + "]";
                InetSocketAddress a = address(item, f);
                if (out.contains(a)) {
                    throw error(f, "listed twice");
                }
                out.add(a);
            }
            if (out.isEmpty()) {
                throw error(at, "needs at least one address; leave the field out for none");
            }
            return List.copyOf(out);
        }

        /** "host:port", "[v6]:port" or "host" (port 5683). */
        InetSocketAddress address(JsonNode n, String at) throws ConfigException {
            Origin o = hostPort(text(n, at), at, 5683);
            try {
                return new InetSocketAddress(InetAddress.getByName(o.host()), o.port());
            } catch (IOException e) {
                throw error(at, "cannot resolve host " + o.host());
            }
        }

        /** A UDP origin only: "coap://host[:port]" or "host:port" (next_proxy, origin hop contexts). */
        Origin udpOrigin(JsonNode n, String at) throws ConfigException {
            Origin o = origin(n, at);
            if (o.tcp()) {
                throw error(at, "only coap:// (UDP) is supported here, not " + o.scheme() + " (see docs/configuration.md)");
            }
            return o;
        }

        /** An origin: "coap://host[:port]", "coap+tcp://host[:port]", "coaps+tcp://host[:port]" or "host:port" (coap). */
        Origin origin(JsonNode n, String at) throws ConfigException {
            String s = text(n, at);
            if (s.contains("://")) {
                try {
                    URI u = new URI(s);
                    String scheme = u.getScheme() == null ? null : Origin.proxied(u.getScheme());
                    if (scheme == null) {
                        throw error(at, "only coap://, coap+tcp:// and coaps+tcp:// origins are supported (scheme "
                                + u.getScheme() + ")");
                    }
                    int dflt = Origin.defaultPort(scheme);
                    if (u.getHost() == null || (u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/"))
                            || u.getRawQuery() != null) {
                        throw error(at, "an origin is scheme, host and port only");
                    }
                    String h = u.getHost().startsWith("[") ? u.getHost().substring(1, u.getHost().length() - 1) : u.getHost();
                    Origin o = hostPort(h.indexOf(':') >= 0 ? "[" + h + "]:" + (u.getPort() < 0 ? dflt : u.getPort())
                            : h + ":" + (u.getPort() < 0 ? dflt : u.getPort()), at, dflt);
                    return new Origin(o.host(), o.port(), scheme);
                } catch (URISyntaxException e) {
                    throw error(at, "not a URI");
                }
            }
            return hostPort(s, at, 5683);
        }

        Origin hostPort(String s, String at, int dfltPort) throws ConfigException {
            String host;
            String port = null;
            if (s.startsWith("[")) {
                int end = s.indexOf(']');
                if (end < 0) {
                    throw error(at, "unclosed [ in an IPv6 address");
                }
                host = s.substring(1, end);
                if (end + 1 < s.length()) {
                    if (s.charAt(end + 1) != ':') {
                        throw error(at, "expected :port after ]");
                    }
                    port = s.substring(end + 2);
                }
            } else {
                int c = s.lastIndexOf(':');
                if (c >= 0 && s.indexOf(':') == c) {
                    host = s.substring(0, c);
                    port = s.substring(c + 1);
                } else {
                    host = s;
                }
            }
            if (host.isEmpty()) {
                throw error(at, "needs a host");
            }
            int p = dfltPort;
            if (port != null) {
                try {
                    p = Integer.parseInt(port);
                } catch (NumberFormatException e) {
                    throw error(at, "port is not a number");
                }
                if (p < 0 || p > 65535) {
                    throw error(at, "port must be 0 to 65535");
                }
            }
            host = host.toLowerCase(Locale.ROOT);
            if (ForwardTarget.looksNumeric(host)) {
                String canonical = ForwardTarget.canonicalIp(host);
                if (canonical == null) {
                    throw error(at, "not a valid IP address (IPv4 as a dotted quad)");
                }
                host = canonical; // the form targets are compared in
            }
            return new Origin(host, p);
        }

        /** A non-empty list of CIDR prefixes, each once (OCP-09). */
        List<SourcePrefix> sources(JsonNode n, String at) throws ConfigException {
            if (n.isNull()) {
                throw error(at, "must be a list of address prefixes; leave the field out for any source");
            }
            List<JsonNode> items = list(n, at);
            if (items.isEmpty()) {
                throw error(at, "is empty: the context would be usable from no source; leave the field out for any source");
            }
            List<SourcePrefix> out = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                String f = at + "[" + i + "]";
                JsonNode item = items.get(i);
                if (!item.isTextual()) {
                    throw error(f, "must be an address prefix in quotes, e.g. '10.0.0.0/8' or '::1/128'");
                }
                SourcePrefix p;
                try {
                    p = SourcePrefix.parse(item.asText());
                } catch (IllegalArgumentException e) {
                    throw error(f, "'" + item.asText() + "' is not an address prefix: " + e.getMessage());
                }
                if (out.contains(p)) {
                    throw error(f, p + " is listed twice");
                }
                out.add(p);
            }
            return List.copyOf(out);
        }

        /** "/a/b" as the segments [a, b]; "/" and "" are the empty prefix. */
        List<String> pathPrefix(JsonNode n, String at) throws ConfigException {
            String s = n.isTextual() ? n.asText() : null;
            if (s == null || !s.startsWith("/")) {
                throw error(at, "must be a path starting with /");
            }
            List<String> out = new ArrayList<>();
            for (String seg : s.substring(1).split("/", -1)) {
                if (!seg.isEmpty()) {
                    out.add(seg);
                }
            }
            return List.copyOf(out);
        }

        ClientId client(JsonNode n, String at) throws ConfigException {
            if (n.isTextual()) {
                if (n.asText().equals("unauthenticated")) {
                    return ClientId.UNAUTHENTICATED;
                }
                throw error(at, "must be 'unauthenticated', {kid: HEX, kid_context: HEX}, {tls_subject: DN} or "
                        + "{tls_spki_sha256: HEX}");
            }
            onlyFields(n, at, Set.of("kid", "kid_context", "tls_subject", "tls_spki_sha256"));
            if (n.has("tls_subject") || n.has("tls_spki_sha256")) {
                if (n.has("kid") || n.has("kid_context") || n.has("tls_subject") && n.has("tls_spki_sha256")) {
                    throw error(at, "give one of kid (with kid_context), tls_subject or tls_spki_sha256");
                }
                if (n.has("tls_subject")) {
                    String dn = text(n.get("tls_subject"), at + ".tls_subject");
                    try {
                        return ClientId.tls(new javax.security.auth.x500.X500Principal(dn)
                                .getName(javax.security.auth.x500.X500Principal.CANONICAL), null);
                    } catch (IllegalArgumentException e) {
                        throw error(at + ".tls_subject", "not an X.500 distinguished name (RFC 2253, e.g. 'CN=sensor-1,O=Example')");
                    }
                }
                byte[] spki = hex(n.get("tls_spki_sha256"), at + ".tls_spki_sha256", false);
                if (spki.length != 32) {
                    throw error(at + ".tls_spki_sha256", "must be 64 hex digits (the SHA-256 of the certificate's "
                            + "SubjectPublicKeyInfo)");
                }
                return ClientId.tls(null, spki);
            }
            byte[] kid = hex(required(n, "kid", at), at + ".kid", true);
            byte[] kidContext = n.has("kid_context") ? hex(n.get("kid_context"), at + ".kid_context", false) : null;
            return new ClientId(kidContext == null || kidContext.length == 0 ? null : kidContext, kid);
        }

        byte[] hex(JsonNode n, String at, boolean allowEmpty) throws ConfigException {
            if (!n.isTextual()) {
                throw error(at, "must be a hex string in quotes");
            }
            String s = n.asText();
            if (s.length() % 2 != 0 || !s.matches("[0-9a-fA-F]*")) {
                throw error(at, "must be an even number of hex digits");
            }
            return Hex.decode(s);
        }
    }
}
