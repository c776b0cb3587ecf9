package dev.coterie.oscore;

import dev.coterie.keystore.CborWriter;

import dev.coterie.keystore.AeadFailure;
import dev.coterie.keystore.ReplayWindow;
import dev.coterie.keystore.StateUnavailableException;
import java.security.SecureRandom;
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
 * RFC 8613 message protection and verification (Sections 4, 5, 8): a pure function of
 * (security context, message), with no I/O. The Californium stack layer and the proxy call it.
 * Option classes are {@link OptionClassifier}'s.
 */
public final class OscoreProtection {
    /** The longest Sender ID any supported AEAD allows (13-byte nonce minus 6). */
    public static final int MAX_KID_LENGTH = 7;
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ENC0_PREFIX = {(byte) 0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};

    private final ExtensionOptionRegistry extensions;
    private final OptionRegistry optionRegistry;
    private final boolean groupFlagAllowed;
    private final OptionClassifier classifier;
    private final SecureRandom random = new SecureRandom();

    public OscoreProtection(ExtensionOptionRegistry extensions) {
        this(extensions, false);
    }

    public OscoreProtection(ExtensionOptionRegistry extensions, boolean groupFlagAllowed) {
        this(extensions, groupFlagAllowed, InnerObserve.EMPTY);
    }

    public OscoreProtection(ExtensionOptionRegistry extensions, boolean groupFlagAllowed, InnerObserve innerObserve) {
        this.extensions = extensions;
        this.classifier = new OptionClassifier(extensions, innerObserve);
        this.optionRegistry = extensions.californiumRegistry();
        this.groupFlagAllowed = groupFlagAllowed;
    }

    public ExtensionOptionRegistry extensions() {
        return extensions;
    }

    /* ------------------------------------------------------------------ client: request */

    /** Protects a request with the next Sender Sequence Number of {@code ctx} (Section 8.1). */
    public ProtectedRequest protectRequest(Request plain, OscoreContext ctx) throws OscoreException {
        if (plain.getOptions().hasOscore()) {
            throw new OscoreException.ProtectionRefused("the request already carries an OSCORE option and nesting is off");
        }
        OptionClassifier.Split split = classifier.split(plain.getOptions(), true);
        long seq;
        try {
            seq = ctx.senderSequence().next();
        } catch (StateUnavailableException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
        byte[] piv = partialIv(seq);
        byte[] kid = ctx.senderIdRaw();
        byte[] nonce = ctx.nonce(kid, piv);
        byte[] aad = aad(ctx, kid, piv, split.classI);
        byte[] pt = Plaintext.encode(plain.getRawCode(), split.inner, payloadOf(plain));
        byte[] ct = ctx.senderKey().seal(nonce, aad, pt);

        boolean observe = plain.getOptions().hasObserve();
        RequestBinding binding = new RequestBinding(ctx, kid, piv, nonce, observe);
        ProtectedRequest out = new ProtectedRequest(observe ? Code.FETCH : Code.POST, binding, plain);
        copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        OptionSet o = out.getOptions();
        for (Option opt : split.outer) {
            o.addOption(opt);
        }
        o.setOscore(new OscoreOptionValue(piv, ctx.idContextRaw(), kid, false).encode());
        out.setPayload(ct);
        return out;
    }

    /* ------------------------------------------------------------------ server: request */

    /**
     * Verifies a protected request (Section 8.2). On success the replay window has recorded
     * the Partial IV; on failure nothing in any context changed.
     */
    public VerifiedRequest verifyRequest(Request received, ContextDb contexts) throws OscoreException, EchoRequired {
        OscoreOptionValue v = decodeRequestOption(received, groupFlagAllowed);
        byte[] payload = received.getPayload();
        OscoreContext ctx = contexts.find(v.kidContext(), v.kid());
        if (ctx == null) {
            throw new OscoreException.ContextNotFound("no context for this kid / kid context");
        }
        byte[] piv = v.partialIv();
        long seq = toLong(piv);
        ReplayWindow window = ctx.replayWindow();
        ReplayWindow.Verdict pre = window.check(seq);
        if (pre == ReplayWindow.Verdict.REPLAYED || pre == ReplayWindow.Verdict.TOO_OLD) {
            throw new OscoreException.Replay("Partial IV " + seq + " " + pre);
        }
        List<Option> classI = classifier.classIOptions(received.getOptions());
        byte[] nonce = ctx.nonce(v.kid(), piv);
        byte[] aad = aad(ctx, v.kid(), piv, Plaintext.encodeOptions(classI));
        byte[] pt;
        try {
            pt = ctx.recipientKey().open(nonce, aad, payload);
        } catch (AeadFailure e) {
            throw new OscoreException.DecryptionFailed("request did not authenticate");
        }
        Plaintext p = Plaintext.decode(pt, optionRegistry);
        if (!CoAP.isRequest(p.code)) {
            throw new OscoreException.DecodeFailure("inner code is not a request code");
        }
        Option innerEcho = null;
        boolean innerObserve = false;
        for (Option opt : p.options) {
            if (opt.getNumber() == OptionNumberRegistry.OSCORE) {
                throw new OscoreException.DecodeFailure("OSCORE option inside the plaintext (nesting is off)");
            }
            if (opt.getNumber() == StandardOptionRegistry.ECHO.getNumber()) {
                innerEcho = opt;
            }
            if (opt.getNumber() == OptionNumberRegistry.OBSERVE) {
                innerObserve = true;
            }
        }
        RequestBinding binding = new RequestBinding(ctx, v.kid(), piv, nonce, innerObserve);
        if (pre == ReplayWindow.Verdict.WINDOW_INVALID) {
            if (innerEcho != null && ctx.echo().consume(innerEcho.getValue())) {
                window.reinitialise(seq);
            } else {
                throw new EchoRequired(binding, ctx.echo().issue(random));
            }
        } else {
            ReplayWindow.Verdict post = window.accept(seq);
            if (post != ReplayWindow.Verdict.FRESH) {
                throw new OscoreException.Replay("Partial IV " + seq + " " + post);
            }
        }
        VerifiedRequest out = new VerifiedRequest(Code.valueOf(p.code), binding);
        copyHeader(received, out);
        out.setSourceContext(received.getSourceContext());
        out.setLocalAddress(received.getLocalAddress(), received.isMulticast());
        OptionSet o = out.getOptions();
        for (Option opt : received.getOptions().asSortedList()) {
            if (classifier.keepOuterOnReceive(opt.getNumber())) {
                o.addOption(opt);
            }
        }
        Plaintext.addAll(o, p.options);
        if (p.payload.length > 0) {
            out.setPayload(p.payload);
        }
        return out;
    }

    /* ------------------------------------------------------------------ server: response */

    /**
     * Protects a response (Section 8.3). A notification (a response with Observe) always gets
     * a fresh Partial IV; other responses reuse the request nonce unless {@code freshPartialIv}.
     */
    public Response protectResponse(Response plain, RequestBinding binding, boolean freshPartialIv) throws OscoreException {
        OscoreContext ctx = binding.context();
        boolean notification = plain.getOptions().hasObserve();
        boolean fresh = freshPartialIv || notification;
        OptionClassifier.Split split = classifier.split(plain.getOptions(), false);
        byte[] piv = null;
        byte[] nonce = binding.requestNonce();
        if (fresh) {
            try {
                piv = partialIv(ctx.senderSequence().next());
            } catch (StateUnavailableException e) {
                throw new OscoreException.ProtectionRefused(e.getMessage());
            }
            nonce = ctx.nonce(ctx.senderIdRaw(), piv);
        }
        byte[] aad = aad(ctx, binding.requestKidRaw(), binding.requestPivRaw(), split.classI);
        byte[] pt = Plaintext.encode(plain.getRawCode(), split.inner, payloadOf(plain));
        byte[] ct = ctx.senderKey().seal(nonce, aad, pt);
        Response out = new Response(notification ? ResponseCode.CONTENT : ResponseCode.CHANGED);
        copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        OptionSet o = out.getOptions();
        for (Option opt : split.outer) {
            o.addOption(opt);
        }
        o.setOscore(new OscoreOptionValue(piv, null, null, false).encode());
        out.setPayload(ct);
        return out;
    }

    /* ------------------------------------------------------------------ client: response */

    /**
     * Verifies a protected response (Section 8.4). For notifications the Partial IV must be
     * new (OSC-17); the delivered Observe value is derived from it, so that the freshest
     * notification is the one with the highest Partial IV.
     */
    public Response verifyResponse(Response received, RequestBinding binding) throws OscoreException {
        byte[] optionValue = received.getOptions().getOscore();
        if (optionValue == null) {
            throw new OscoreException.DecodeFailure("response carries no OSCORE option");
        }
        OscoreOptionValue v = OscoreOptionValue.decode(optionValue, groupFlagAllowed);
        byte[] payload = received.getPayload();
        if (payload == null || payload.length == 0) {
            throw new OscoreException.DecodeFailure("OSCORE response without payload");
        }
        OscoreContext ctx = binding.context();
        byte[] piv = v.partialIv();
        byte[] nonce = piv == null ? binding.requestNonce() : ctx.nonce(ctx.recipientIdRaw(), piv);
        List<Option> classI = classifier.classIOptions(received.getOptions());
        byte[] aad = aad(ctx, binding.requestKidRaw(), binding.requestPivRaw(), Plaintext.encodeOptions(classI));
        byte[] pt;
        try {
            pt = ctx.recipientKey().open(nonce, aad, payload);
        } catch (AeadFailure e) {
            throw new OscoreException.DecryptionFailed("response did not authenticate");
        }
        Plaintext p = Plaintext.decode(pt, optionRegistry);
        if (!CoAP.isResponse(p.code)) {
            throw new OscoreException.DecodeFailure("inner code is not a response code");
        }
        boolean innerObserve = false;
        for (Option opt : p.options) {
            if (opt.getNumber() == OptionNumberRegistry.OBSERVE) {
                innerObserve = true;
            } else if (opt.getNumber() == OptionNumberRegistry.OSCORE) {
                throw new OscoreException.DecodeFailure("OSCORE option inside the plaintext (nesting is off)");
            }
        }
        if (innerObserve && !binding.isObserve()) {
            throw new OscoreException.DecodeFailure("inner Observe in a response to a non-Observe request");
        }
        long observeValue = -1;
        if (innerObserve) {
            if (piv == null) {
                if (!binding.acceptNotificationWithoutPiv()) {
                    throw new OscoreException.Replay("second notification without Partial IV");
                }
                observeValue = 0;
            } else {
                long seq = toLong(piv);
                ReplayWindow.Verdict verdict = binding.notifications().accept(seq);
                if (verdict != ReplayWindow.Verdict.FRESH) {
                    throw new OscoreException.Replay("notification Partial IV " + seq + " " + verdict);
                }
                observeValue = (seq + 1) & 0xffffff;
            }
        }
        Response out = new Response(ResponseCode.valueOf(p.code));
        copyHeader(received, out);
        out.setSourceContext(received.getSourceContext());
        OptionSet o = out.getOptions();
        Plaintext.addAll(o, p.options);
        if (innerObserve) {
            o.setObserve((int) observeValue);
        }
        if (p.payload.length > 0) {
            out.setPayload(p.payload);
        }
        return out;
    }

    /* ------------------------------------------------------------------ helpers */

    /**
     * The checks every protected request passes before any context is looked up (Sections 6.1,
     * 8.2, OSC-08, OSC-09): an OSCORE option that decodes, a payload, a kid that fits a nonce and a
     * Partial IV. Shared by OSCORE and Group OSCORE.
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

    /** A plain 4.01 carrying only {@code echo} (RFC 9175 2.4), to be protected by the caller. */
    public static Response echoChallenge(Request request, byte[] echo) {
        Response r = new Response(ResponseCode.UNAUTHORIZED);
        r.setType(request.isConfirmable() ? CoAP.Type.ACK : CoAP.Type.NON);
        r.setToken(request.getToken());
        r.setDestinationContext(request.getSourceContext());
        r.getOptions().addOption(StandardOptionRegistry.ECHO.create(echo));
        return r;
    }

    /** The unprotected error response of digest table 1.6: code, diagnostic payload, outer Max-Age 0. */
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

    /** external_aad and Enc_structure of Section 5.4. */
    static byte[] aad(OscoreContext ctx, byte[] requestKid, byte[] requestPiv, byte[] classI) {
        byte[] external = new CborWriter(24 + requestKid.length + requestPiv.length + classI.length)
                .array(5).integer(1).raw(ctx.algorithmsCbor()).bytes(requestKid).bytes(requestPiv).bytes(classI)
                .toByteArray();
        return encStructure(external);
    }

    /** ["Encrypt0", h'', external_aad] around an aad_array (Section 5.4; Group OSCORE Section 4.3). */
    public static byte[] encStructure(byte[] aadArray) {
        return new CborWriter(ENC0_PREFIX.length + 3 + aadArray.length).raw(ENC0_PREFIX).bytes(aadArray).toByteArray();
    }

    /** Minimal big-endian encoding; 0 encodes as h'00' (Section 6.1, OSC-04). */
    public static byte[] partialIv(long seq) {
        int n = 1;
        while (n < 5 && (seq >>> (8 * n)) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[n - 1 - i] = (byte) (seq >>> (8 * i));
        }
        return b;
    }

    /** The value of a Partial IV. */
    public static long toLong(byte[] piv) {
        long v = 0;
        for (byte b : piv) {
            v = (v << 8) | (b & 0xff);
        }
        return v;
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
