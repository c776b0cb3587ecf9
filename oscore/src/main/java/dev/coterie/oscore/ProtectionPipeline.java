package dev.coterie.oscore;

import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.ReplayWindow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * The one protection pipeline for every mode (RFC 8613 Sections 4, 5 and 8; Group OSCORE
 * Sections 7 and 8; cacheable-oscore Section 3): a pure function of (message, view, request
 * identifiers) with no I/O. It sorts options into classes, builds the plaintext and the outer
 * message, checks what a receiver must check, and keeps the request identifiers; the view
 * supplies the mode's keys, nonce, AAD and signature step. The Californium layer and a proxy
 * both call it; neither has a second copy of this flow.
 */
public final class ProtectionPipeline {
    /** The longest Sender ID any supported AEAD allows (13-byte nonce minus 6). */
    public static final int MAX_KID_LENGTH = 7;
    /** Outer Max-Age of a response to a deterministic request whose inner one is absent (its default). */
    static final int DEFAULT_MAX_AGE = 60;
    private static final byte[] EMPTY = new byte[0];
    private static final int ECHO_NUMBER = 252;
    private static final byte[] ENC0_PREFIX = {(byte) 0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};

    private final ExtensionOptionRegistry extensions;
    private final OptionRegistry optionRegistry;
    private final OptionClassifier classifier;

    private final boolean nesting;

    public ProtectionPipeline(ExtensionOptionRegistry extensions, InnerObserve innerObserve) {
        this(extensions, innerObserve, false);
    }

    /**
     * @param nesting whether a message may carry another OSCORE layer inside this one
     *     (OSCORE-in-OSCORE, oscore-capable-proxies Section 3): off, an inner OSCORE option is a
     *     decode failure and a message with one is never protected again (OSC-19); on (a proxy's
     *     front endpoint, a client of a proxy), the caller counts the layers (OCP-04, OCP-08).
     */
    public ProtectionPipeline(ExtensionOptionRegistry extensions, InnerObserve innerObserve, boolean nesting) {
        this.extensions = extensions;
        this.classifier = new OptionClassifier(extensions, innerObserve);
        this.optionRegistry = extensions.californiumRegistry();
        this.nesting = nesting;
    }

    public boolean nesting() {
        return nesting;
    }

    public ProtectionPipeline(ExtensionOptionRegistry extensions) {
        this(extensions, InnerObserve.EMPTY);
    }

    public ExtensionOptionRegistry extensions() {
        return extensions;
    }

    public OptionClassifier classifier() {
        return classifier;
    }

    /** A protected request and the identifiers its responses are verified with. */
    public record ProtectedRequest(Request wire, RequestIdentifiers identifiers) {
    }

    /**
     * A verified message as the endpoint sees it, the identifiers of its request (the request's
     * own when it is a request), the verified sender, and the hop-by-hop outer options that came
     * with it (outer Block1/Block2/Size1/Size2/Echo; never mixed into the message).
     */
    public record Unprotected<M extends Message>(M plain, RequestIdentifiers identifiers, OscorePeer peer,
                                                 List<Option> hopByHop, String description) {
    }

    /* ================================================================ client: request */

    /** Protects a request with {@code view} (RFC 8613 Section 8.1; Group OSCORE 7.1, 8.1; cacheable-oscore 3.3). */
    public ProtectedRequest protectRequest(Request plain, RequestProtector view) throws OscoreException {
        return protectRequest(plain, view, nesting);
    }

    /**
     * A request protected with several layers (oscore-capable-proxies Section 2, OCP-01): the
     * message after each layer, innermost first ({@code stages.get(0)} is the plain request, the
     * last one goes on the wire), and the identifiers each layer's response is verified with.
     */
    public record LayeredRequest(List<Request> stages, List<RequestIdentifiers> identifiers) {
        public Request wire() {
            return stages.get(stages.size() - 1);
        }
    }

    /**
     * Protects {@code plain} with {@code layers}, innermost (end to end) first and the next hop's
     * last (OCP-01). Every layer after the first protects a message that already carries an
     * OSCORE option: nesting is decided here, by the caller's list, never by accident (OSC-19).
     * With {@code echoLayer} at 0 or more, that layer's plaintext carries {@code echo} (the answer
     * to the Echo challenge of the endpoint that removes it, RFC 9175 Section 2.4).
     */
    public LayeredRequest protectRequest(Request plain, List<RequestProtector> layers, int echoLayer, byte[] echo)
            throws OscoreException {
        if (layers.isEmpty()) {
            throw new OscoreException.ProtectionRefused("no OSCORE layer to protect with");
        }
        if (layers.size() == 1 && echoLayer < 0) {
            ProtectedRequest p = protectRequest(plain, layers.get(0), nesting);
            return new LayeredRequest(List.of(plain, p.wire()), List.of(p.identifiers()));
        }
        List<Request> stages = new ArrayList<>(layers.size() + 1);
        List<RequestIdentifiers> ids = new ArrayList<>(layers.size());
        Request m = plain;
        stages.add(m);
        for (int i = 0; i < layers.size(); i++) {
            if (i == echoLayer) {
                Request withEcho = new Request(m.getCode(), m.getType());
                copyHeader(m, withEcho);
                withEcho.setDestinationContext(m.getDestinationContext());
                withEcho.setOptions(new OptionSet(m.getOptions()));
                withEcho.getOptions().addOption(StandardOptionRegistry.ECHO.create(echo));
                if (m.getPayload() != null && m.getPayloadSize() > 0) {
                    if (!withEcho.isIntendedPayload()) {
                        withEcho.setUnintendedPayload();
                    }
                    withEcho.setPayload(m.getPayload());
                }
                m = withEcho;
                stages.set(i, m);
            }
            ProtectedRequest p = protectRequest(m, layers.get(i), nesting || i > 0);
            m = p.wire();
            stages.add(m);
            ids.add(p.identifiers());
        }
        return new LayeredRequest(List.copyOf(stages), List.copyOf(ids));
    }

    private ProtectedRequest protectRequest(Request plain, RequestProtector view, boolean nested) throws OscoreException {
        view.checkDestination(plain);
        checkMulticastDestination(plain); // every view, after its own rules (a pairwise request to a group, ...)
        OptionClassifier.Split split = classifier.split(plain.getOptions(), OptionClassifier.Role.REQUEST, nested,
                view.protectsForProxy());
        byte[] pt = view.plaintext(plain.getRawCode(), split.inner, payloadOf(plain));
        boolean observe = plain.getOptions().hasObserve();
        RequestProtector.SealedRequest s = view.seal(Plaintext.encodeOptions(split.classI), pt, observe);
        boolean fetch = observe || view.mode() == ProtectionMode.DETERMINISTIC; // DET-04
        Request out = new Request(fetch ? Code.FETCH : Code.POST);
        copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        OptionSet o = out.getOptions();
        for (Option opt : split.outer) {
            o.addOption(opt);
        }
        if (s.requestHash() != null) {
            o.addOption(new Option(optionRegistry.getDefinitionByNumber(classifier.requestHashNumber()), s.requestHash()));
        }
        o.setOscore(s.optionValue());
        out.setPayload(s.payload());
        return new ProtectedRequest(out, s.identifiers());
    }

    /**
     * Every view's requests to a multicast address pass {@link MulticastGuard} and the GCB-10 port
     * rule here, so no view (plain OSCORE among them) can put multicast on a real network.
     */
    private static void checkMulticastDestination(Request plain) throws OscoreException.ProtectionRefused {
        if (plain.getDestinationContext() == null) {
            return;
        }
        try {
            MulticastGuard.checkDestination(plain.getDestinationContext().getPeerAddress());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
    }

    /* ================================================================ server: request */

    /**
     * Verifies a protected request (RFC 8613 Section 8.2; Group OSCORE 7.2, 8.2; cacheable-oscore
     * 3.4). On a failure no replay window or other state changed; on success the window recorded
     * the Partial IV (OSC-16).
     *
     * @throws ProtectedAnswerRequired the request verified but gets a protected error instead of
     *     being processed (Echo challenge, unrecognized critical option, unsafe deterministic request)
     */
    public Unprotected<Request> unprotectRequest(Request received, RequestVerifier.Resolver resolver)
            throws OscoreException, ProtectedAnswerRequired {
        OscoreOptionValue v = decodeRequestOption(received, resolver.understandsGroupFlag());
        OptionClassifier.Received outer = outerOptions(received, OptionClassifier.Role.REQUEST);
        byte[] requestHash = optionValue(received.getOptions(), classifier.requestHashNumber());
        RequestVerifier r = resolver.resolve(v, received, requestHash);
        Freshness freshness = r.freshness();
        long seq = SealingNonce.toLong(v.partialIv());
        ReplayWindow.Verdict pre = freshness == null ? ReplayWindow.Verdict.FRESH : freshness.window().check(seq);
        if (pre == ReplayWindow.Verdict.REPLAYED || pre == ReplayWindow.Verdict.TOO_OLD) {
            throw new OscoreException.Replay("Partial IV " + seq + " " + pre);
        }
        if (r.mode() == ProtectionMode.DETERMINISTIC && requestHash == null) {
            throw new OscoreException.DecodeFailure("a deterministic request without Request-Hash");
        }
        ReceivedCose in = new ReceivedCose(v, received.getOptions().getOscore(),
                Plaintext.encodeOptions(classifier.classIOptions(received.getOptions(), OptionClassifier.Role.REQUEST)),
                received.getPayload(), r.mode() == ProtectionMode.DETERMINISTIC ? requestHash : null);
        byte[] pt = r.open(in);
        r.checkPlaintext(in, pt);
        Plaintext p = Plaintext.decode(pt, optionRegistry);
        if (!CoAP.isRequest(p.code)) {
            throw new OscoreException.DecodeFailure("inner code is not a request code");
        }
        byte[] echo = null;
        boolean innerObserve = false;
        for (Option opt : p.options) {
            if (opt.getNumber() == OptionNumberRegistry.OSCORE && !nesting) {
                throw new OscoreException.DecodeFailure("OSCORE option inside the plaintext (nesting is off)");
            }
            if (opt.getNumber() == ECHO_NUMBER) {
                echo = opt.getValue();
            }
            innerObserve |= opt.getNumber() == OptionNumberRegistry.OBSERVE;
        }
        // an inner-only Observe of a deterministic request asks for no observation (cacheable-oscore 3.3 step 1)
        boolean stripObserve = innerObserve && r.mode() == ProtectionMode.DETERMINISTIC && !received.getOptions().hasObserve();
        RequestIdentifiers.Builder ids = RequestIdentifiers.builder().mode(r.mode()).contextName(r.contextName())
                .kid(v.kid()).partialIv(v.partialIv()).kidContext(v.kidContext()).requestHash(in.requestHash())
                .observe(innerObserve && !stripObserve).responseProtector(r.responseProtector()).peer(r.peer(v));
        if (pre == ReplayWindow.Verdict.WINDOW_INVALID) {
            // a window that cannot be rebuilt (its context closed) keeps challenging
            if (!(r.echoRecoveryAllowed(received) && echo != null && freshness.consumeEcho(echo)
                    && freshness.window().reinitialise(seq))) {
                throw new ProtectedAnswerRequired(ids.nonceReusable(false).build(), ResponseCode.UNAUTHORIZED,
                        freshness.issueEcho(), null);
            }
        } else if (freshness != null && freshness.window().accept(seq) != ReplayWindow.Verdict.FRESH) {
            throw new OscoreException.Replay("Partial IV " + seq + " seen meanwhile");
        }
        // from here the request was authentic and fresh: its Partial IV is used, whatever the answer
        if (p.unrecognizedCritical >= 0) {
            throw new ProtectedAnswerRequired(ids.nonceReusable(false).build(), ResponseCode.BAD_OPTION, null,
                    "Unrecognized critical option " + p.unrecognizedCritical);
        }
        if (!isKnownMethod(p.code)) {
            // RFC 7252 Section 5.8: an unrecognized method code gets 4.05; Californium has no Request for it
            throw new ProtectedAnswerRequired(ids.nonceReusable(false).build(), ResponseCode.METHOD_NOT_ALLOWED, null,
                    "Unknown method code " + CoAP.formatCode(p.code));
        }
        if (r.mode() == ProtectionMode.DETERMINISTIC && !isSafe(p.code)) {
            throw new ProtectedAnswerRequired(ids.nonceReusable(false).build(), ResponseCode.UNAUTHORIZED, null,
                    "Deterministic requests must be safe");
        }
        RequestIdentifiers identifiers = ids.nonceReusable(r.responseMayReuseNonce()).build();
        Request out = new Request(Code.valueOf(p.code));
        copyHeader(received, out);
        out.setSourceContext(received.getSourceContext());
        out.setLocalAddress(received.getLocalAddress(), received.isMulticast());
        OptionSet o = out.getOptions();
        for (Option opt : outer.classU()) {
            o.addOption(opt);
        }
        for (Option opt : p.options) {
            if (!(stripObserve && opt.getNumber() == OptionNumberRegistry.OBSERVE)) {
                o.addOption(opt);
            }
        }
        if (p.payload.length > 0) {
            if (!out.isIntendedPayload()) {
                out.setUnintendedPayload(); // a GET or DELETE with payload: delivered as Californium's parser delivers one
            }
            out.setPayload(p.payload);
        }
        return new Unprotected<>(out, identifiers, identifiers.peer(), outer.hopByHop(), r.describe());
    }

    /* ================================================================ server: response */

    /**
     * Protects a response to the request of {@code request} with its response protector (RFC
     * 8613 Section 8.3; Group OSCORE 7.3, 8.3; cacheable-oscore 3.5). The protector decides the
     * Partial IV; a notification always gets its own.
     */
    public Response protectResponse(Response plain, RequestIdentifiers request) throws OscoreException {
        OptionClassifier.Split split = classifier.split(plain.getOptions(), OptionClassifier.Role.RESPONSE, nesting, false);
        boolean notification = plain.getOptions().hasObserve();
        boolean deterministic = request.mode() == ProtectionMode.DETERMINISTIC;
        List<Option> classI = new ArrayList<>(split.classI);
        if (request.requestHash() != null) {
            classI.removeIf(opt -> classifier.isRequestHash(opt.getNumber()) && Arrays.equals(opt.getValue(), request.requestHash()));
            for (Option opt : classI) {
                if (classifier.isRequestHash(opt.getNumber())) {
                    throw new OscoreException.ProtectionRefused("a response's Request-Hash must equal its request's");
                }
            }
            // class I in the AAD, elided on the wire (cacheable-oscore 3.2)
            classI.add(new Option(optionRegistry.getDefinitionByNumber(classifier.requestHashNumber()), request.requestHash()));
            classI.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
        }
        Long innerMaxAge = plain.getOptions().hasMaxAge() ? plain.getOptions().getMaxAge() : null;
        if (deterministic && innerMaxAge != null && innerMaxAge == 0) {
            throw new OscoreException.ProtectionRefused("a response to a deterministic request must not have Max-Age 0 (DET-07)");
        }
        byte[] pt = Plaintext.encode(plain.getRawCode(), split.inner, payloadOf(plain));
        ResponseProtector.SealedResponse s = request.responseProtector().seal(request, Plaintext.encodeOptions(classI), pt,
                notification);
        Response out = new Response(notification || deterministic ? ResponseCode.CONTENT : ResponseCode.CHANGED);
        copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        OptionSet o = out.getOptions();
        for (Option opt : split.outer) {
            o.addOption(opt);
        }
        if (deterministic) {
            // an OSCORE-unaware proxy caches by the outer Max-Age (DET-07)
            o.setMaxAge(innerMaxAge != null ? innerMaxAge : DEFAULT_MAX_AGE);
        }
        o.setOscore(s.optionValue());
        out.setPayload(s.payload());
        return out;
    }

    /* ================================================================ client: response */

    /**
     * Verifies a response to the request of {@code request} (RFC 8613 Section 8.4; Group OSCORE
     * 7.4, 8.4; cacheable-oscore 3.5). Every responder's Partial IVs are checked against its
     * Response Numbers, updated only after verification (GRP-19, OSC-17). A notification is
     * delivered with an Observe number that grows with every newest notification of its server;
     * a verified notification older than its server's freshest one is dropped (a
     * {@link OscoreException.Replay}), while an older final response, without inner Observe, is
     * still delivered.
     */
    public Unprotected<Response> unprotectResponse(Response received, RequestIdentifiers request) throws OscoreException {
        return unprotectResponse(received, request, nesting, false);
    }

    /**
     * A response with the layers of its {@link LayeredRequest} removed, outermost first (OCP-06).
     * {@code steps} holds what each removed layer gave, outermost first; {@code innermostLayer}
     * is the index of the last layer removed: 0 when the response came end to end, more when an
     * intermediary answered itself inside the layers down to it.
     */
    public record LayeredResponse(Response plain, List<Unprotected<Response>> steps, int innermostLayer) {
        public Unprotected<Response> last() {
            return steps.get(steps.size() - 1);
        }
    }

    /**
     * Removes the layers of a response to a request protected with {@code layers} (innermost
     * first), outermost first. Inside an outer layer a further OSCORE option is the next layer;
     * a message without one is the answer of the intermediary that removed that layer, accepted
     * only when it is an error (an intermediary never supplies a success in place of the
     * server's protected one). An OSCORE option left inside the innermost layer stops
     * processing (OCP-08).
     */
    public LayeredResponse unprotectResponse(Response received, List<RequestIdentifiers> layers) throws OscoreException {
        if (layers.size() == 1) {
            Unprotected<Response> u = unprotectResponse(received, layers.get(0), nesting, false);
            return new LayeredResponse(u.plain(), List.of(u), 0);
        }
        List<Unprotected<Response>> steps = new ArrayList<>(layers.size());
        Response m = received;
        for (int i = layers.size() - 1; i >= 0; i--) {
            Unprotected<Response> u = unprotectResponse(m, layers.get(i), nesting || i > 0, layers.size() > 1);
            steps.add(u);
            m = u.plain();
            if (i > 0 && !m.getOptions().hasOscore()) {
                if (!m.isError()) {
                    throw new OscoreException.DecodeFailure("a success response without the end-to-end layer, from an "
                            + "intermediary (layer " + i + ")");
                }
                return new LayeredResponse(m, List.copyOf(steps), i);
            }
        }
        return new LayeredResponse(m, List.copyOf(steps), 0);
    }

    private Unprotected<Response> unprotectResponse(Response received, RequestIdentifiers request, boolean nested,
                                                    boolean layered) throws OscoreException {
        byte[] optionBytes = received.getOptions().getOscore();
        if (optionBytes == null) {
            throw new OscoreException.DecodeFailure("response carries no OSCORE option");
        }
        ResponseVerifier verifier = request.responseVerifier();
        OscoreOptionValue v = OscoreOptionValue.decode(optionBytes, verifier.understandsGroupFlag());
        OptionClassifier.Received outer = outerOptions(received, OptionClassifier.Role.RESPONSE);
        byte[] payload = received.getPayload();
        if (payload == null || payload.length == 0) {
            throw new OscoreException.DecodeFailure("OSCORE response without payload");
        }
        List<Option> classI = classifier.classIOptions(received.getOptions(), OptionClassifier.Role.RESPONSE);
        byte[] onWireHash = optionValue(received.getOptions(), classifier.requestHashNumber());
        byte[] expectedHash = request.requestHash();
        if (expectedHash != null) {
            if (onWireHash != null && !Arrays.equals(onWireHash, expectedHash)) {
                throw new OscoreException.DecodeFailure("Request-Hash differs from the request's (DET-09)");
            }
            onWireHash = expectedHash; // re-inserted when elided
        }
        if (onWireHash != null) {
            classI.add(new Option(optionRegistry.getDefinitionByNumber(classifier.requestHashNumber()), onWireHash));
            classI.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
        }
        ReceivedCose in = new ReceivedCose(v, optionBytes, Plaintext.encodeOptions(classI), payload, expectedHash);
        ResponseVerifier.OpenedResponse opened = verifier.open(request, in);
        Plaintext p = Plaintext.decode(opened.plaintext(), optionRegistry);
        if (!isKnownResponseCode(p.code)) {
            // CoAP.isResponse admits class 3 (reserved), which Californium has no ResponseCode for
            throw new OscoreException.DecodeFailure("inner code is not a response code");
        }
        if (p.unrecognizedCritical >= 0) {
            throw new OscoreException.DecodeFailure("unrecognized critical inner option " + p.unrecognizedCritical
                    + " (RFC 7252 Section 5.4.1: the response is rejected)");
        }
        boolean innerObserve = false;
        for (Option opt : p.options) {
            if (opt.getNumber() == OptionNumberRegistry.OSCORE && !nested) {
                // before any Response Number moved: the response is not processed further
                throw new OscoreException.DecodeFailure(layered
                        ? "an OSCORE option is left after removing every layer this client added (OCP-08)"
                        : "OSCORE option inside the plaintext (nesting is off)");
            }
            innerObserve |= opt.getNumber() == OptionNumberRegistry.OBSERVE;
        }
        boolean ignoreObserve = innerObserve && !request.isObserve() && request.mode() == ProtectionMode.DETERMINISTIC;
        if (innerObserve && !request.isObserve() && !ignoreObserve) {
            throw new OscoreException.DecodeFailure("inner Observe in a response to a non-Observe request (OSC-18)");
        }
        ResponseNumbers.Verdict verdict = request.responseNumbers().record(opened.responder(), opened.epochOrder(),
                v.partialIv() == null ? -1 : SealingNonce.toLong(v.partialIv()));
        if (verdict == ResponseNumbers.Verdict.REPLAYED) {
            throw new OscoreException.Replay("this responder used that Partial IV (or no Partial IV) before");
        }
        if (verdict == ResponseNumbers.Verdict.OLDER && innerObserve && !ignoreObserve) {
            // OSC-17, RFC 8613 Section 8.4 step 6: the highest Partial IV is the freshest. Any Observe number given
            // to an older notification would be the current one or lower, and Californium's orderer takes even
            // that as new once 128 s have passed (RFC 7641 Section 3.4), so it is not delivered at all
            throw new OscoreException.Replay("a notification older than the freshest one of its server (not delivered)");
        }
        Response out = new Response(ResponseCode.valueOf(p.code));
        copyHeader(received, out);
        out.setSourceContext(opened.peer().attachTo(received.getSourceContext()));
        OptionSet o = out.getOptions();
        for (Option opt : p.options) {
            if (opt.getNumber() != OptionNumberRegistry.OBSERVE) {
                o.addOption(opt);
            }
        }
        if (innerObserve && !ignoreObserve) {
            o.setObserve(request.responseNumbers().deliveredNumber());
        }
        if (p.payload.length > 0) {
            out.setPayload(p.payload);
        }
        return new Unprotected<>(out, request, opened.peer(), outer.hopByHop(), opened.description());
    }

    /* ================================================================ shared pieces */

    /**
     * The checks every protected request passes before any context is looked up (Sections 6.1,
     * 8.2, OSC-08, OSC-09): an OSCORE option that decodes, a payload, a kid that fits a nonce and
     * a Partial IV.
     */
    public static OscoreOptionValue decodeRequestOption(Request received, boolean groupFlagAllowed)
            throws OscoreException.DecodeFailure {
        byte[] optionValue = received.getOptions().getOscore();
        if (optionValue == null) {
            throw new OscoreException.DecodeFailure("request carries no OSCORE option");
        }
        OscoreOptionValue v = OscoreOptionValue.decode(optionValue, groupFlagAllowed);
        byte[] payload = received.getPayload();
        if (payload == null || payload.length == 0) {
            throw new OscoreException.DecodeFailure("OSCORE request without payload");
        }
        if (v.kid() == null || v.partialIv() == null) {
            throw new OscoreException.DecodeFailure("OSCORE request without kid or Partial IV");
        }
        if (v.kid().length > MAX_KID_LENGTH) {
            throw new OscoreException.DecodeFailure("kid longer than any nonce allows");
        }
        return v;
    }

    /**
     * The outer options a receiver keeps, sorted out before anything is looked up or recorded.
     * Californium's parser keeps a Size1 or Size2 of 2^31 or more as a negative int and then
     * cannot list the options again; that message is a DecodeFailure here, not an
     * IllegalArgumentException after a replay window or Response Number moved (an outer option is
     * not authenticated, so anyone on the path could add one to an authentic message).
     */
    private OptionClassifier.Received outerOptions(Message received, OptionClassifier.Role role)
            throws OscoreException.DecodeFailure {
        try {
            return classifier.onReceive(received.getOptions(), role);
        } catch (IllegalArgumentException e) {
            throw new OscoreException.DecodeFailure("an outer option this endpoint cannot hold");
        }
    }

    /** The plain answer of a {@link ProtectedAnswerRequired}: its code, its Echo option or diagnostic. */
    public static Response protectedAnswer(Request request, ProtectedAnswerRequired a) {
        Response r = new Response(a.code());
        r.setType(request.isConfirmable() ? CoAP.Type.ACK : CoAP.Type.NON);
        r.setToken(request.getToken());
        r.setDestinationContext(request.getSourceContext());
        if (a.echo() != null) {
            r.getOptions().addOption(StandardOptionRegistry.ECHO.create(a.echo()));
        } else if (a.diagnostic() != null) {
            r.setPayload(a.diagnostic());
        }
        return r;
    }

    /** The unprotected error response of digest tables 1.6 and 2.9: code, diagnostic payload, outer Max-Age 0. */
    public static Response errorResponse(OscoreException e, Request request) {
        return unprotectedError(request, e.responseCode(), e.diagnostic());
    }

    /** An unprotected error answer to {@code request}: ACK or NON, Max-Age 0, a diagnostic payload. */
    public static Response unprotectedError(Request request, ResponseCode code, String diagnostic) {
        Response r = new Response(code);
        r.setType(request.isConfirmable() ? CoAP.Type.ACK : CoAP.Type.NON);
        r.setPayload(diagnostic);
        r.getOptions().setMaxAge(0);
        r.setDestinationContext(request.getSourceContext());
        r.setToken(request.getToken());
        return r;
    }

    /** ["Encrypt0", h'', external_aad] around an aad_array (RFC 8613 Section 5.4; Group OSCORE Section 4.3). */
    public static byte[] encStructure(byte[] aadArray) {
        return new CborWriter(ENC0_PREFIX.length + 3 + aadArray.length).raw(ENC0_PREFIX).bytes(aadArray).toByteArray();
    }

    /** The 5-element aad_array of RFC 8613 Section 5.4. */
    public static byte[] oscoreAadArray(byte[] algorithmsCbor, byte[] requestKid, byte[] requestPiv, byte[] classI) {
        return new CborWriter(24 + requestKid.length + requestPiv.length + classI.length)
                .array(5).integer(1).raw(algorithmsCbor).bytes(requestKid).bytes(requestPiv).bytes(classI).toByteArray();
    }

    /** Whether Californium knows request code {@code code} (0.01-0.07, 0.30): it has a {@link Request} only for those. */
    static boolean isKnownMethod(int code) {
        try {
            Code.valueOf(code);
            return true;
        } catch (org.eclipse.californium.core.coap.MessageFormatException unknown) {
            return false;
        }
    }

    /** Whether {@code code} is a response code of class 2, 4 or 5, the ones Californium has a {@link Response} for. */
    static boolean isKnownResponseCode(int code) {
        int codeClass = code >>> 5;
        return CoAP.isResponse(code) && (codeClass == 2 || codeClass == 4 || codeClass == 5);
    }

    /** Whether a request code is safe (no side effects, RFC 7252 Section 5.1): GET or FETCH. */
    static boolean isSafe(int code) {
        return code == Code.GET.value || code == Code.FETCH.value;
    }

    private static byte[] optionValue(OptionSet options, int number) {
        for (Option o : options.getOthers()) {
            if (o.getNumber() == number) {
                return o.getValue();
            }
        }
        return null;
    }

    /** The payload, or an empty array. */
    public static byte[] payloadOf(Message m) {
        byte[] p = m.getPayload();
        return p == null ? EMPTY : p;
    }

    /** Type, Message ID and Token: what protection leaves as it was. */
    public static void copyHeader(Message from, Message to) {
        to.setType(from.getType());
        if (from.hasMID()) {
            to.setMID(from.getMID());
        }
        if (from.getToken() != null) {
            to.setToken(from.getToken());
        }
    }
}
