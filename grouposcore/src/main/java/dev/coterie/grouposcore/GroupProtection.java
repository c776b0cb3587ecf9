package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadFailure;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.ReplayWindow;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OptionClassifier;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscoreProtection;
import dev.coterie.oscore.Plaintext;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * Group OSCORE message protection and verification (draft-ietf-core-oscore-groupcomm-28
 * Sections 4, 5, 7, 8): group mode (encrypt with the Group Encryption Algorithm, then sign the
 * ciphertext with the 5-element Countersign_structure, then encrypt the signature with a
 * keystream) and pairwise mode (encrypt with pairwise keys). Both use the 9-element
 * external_aad. A pure function of (context, message), like {@link OscoreProtection}, whose
 * option classes and plaintext codec it shares.
 */
public final class GroupProtection {
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] SIG_PREFIX = new CborWriter(24).array(5).text("CounterSignature0")
            .bytes(EMPTY).bytes(EMPTY).toByteArray();

    private final OptionClassifier classifier;
    private final OptionRegistry optionRegistry;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, byte[]> pendingEcho = new ConcurrentHashMap<>();

    public GroupProtection(ExtensionOptionRegistry extensions, InnerObserve innerObserve) {
        this.classifier = new OptionClassifier(extensions, innerObserve);
        this.optionRegistry = extensions.californiumRegistry();
    }

    public GroupProtection() {
        this(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY);
    }

    /* ================================================================== client: request */

    /**
     * Protects a request. In pairwise mode {@code target} is the Sender ID of the one server
     * addressed; in group mode it is ignored.
     */
    public GroupRequest protectRequest(Request plain, GroupContext ctx, GroupMode mode, byte[] target) throws OscoreException {
        if (ctx.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent member has no Sender Context");
        }
        if (plain.getOptions().hasOscore()) {
            throw new OscoreException.ProtectionRefused("the request already carries an OSCORE option and nesting is off");
        }
        RecipientContext peer = null;
        if (mode == GroupMode.PAIRWISE) {
            if (!ctx.algorithms().pairwiseMode()) {
                throw new OscoreException.ProtectionRefused("this group has no pairwise mode");
            }
            peer = target == null ? null : ctx.recipient(target);
            if (peer == null) {
                throw new OscoreException.ProtectionRefused("pairwise mode needs a known addressed member");
            }
        } else if (!ctx.algorithms().groupMode()) {
            throw new OscoreException.ProtectionRefused("this group has no group mode");
        }
        OptionClassifier.Split split = classifier.split(plain.getOptions(), true);
        byte[] piv = OscoreProtection.partialIv(next(ctx));
        byte[] kid = ctx.senderIdRaw();
        byte[] gid = ctx.gidRaw();
        byte[] option = new OscoreOptionValue(piv, gid, kid, mode == GroupMode.GROUP).encode();
        byte[] aadArray = aadArray(ctx, kid, piv, split.classI, gid, option, ctx.ownCredRaw());
        byte[] pt = Plaintext.encode(plain.getRawCode(), split.inner, OscoreProtection.payloadOf(plain));
        byte[] payload = mode == GroupMode.GROUP
                ? sealAndSign(ctx, ctx.senderGroupKey(), kid, piv, true, aadArray, pt)
                : seal(ctx, peer.pairwiseSenderKey(), ctx.algorithms().aead(), kid, piv, aadArray, pt);
        boolean observe = plain.getOptions().hasObserve();
        GroupRequestBinding binding = new GroupRequestBinding(ctx, kid, piv, gid, mode,
                mode == GroupMode.PAIRWISE ? target.clone() : null, observe);
        GroupRequest out = new GroupRequest(observe ? Code.FETCH : Code.POST, binding, plain);
        OscoreProtection.copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        addOuter(out.getOptions(), split.outer, option);
        out.setPayload(payload);
        return out;
    }

    /* ================================================================== server: request */

    /**
     * Verifies a request (Sections 7.2, 8.2). In group mode the signature is verified before
     * anything is decrypted (GRP-14). On failure nothing in any context changed.
     */
    public VerifiedGroupRequest verifyRequest(Request received, GroupContextDb db) throws OscoreException, GroupEchoRequired {
        OscoreOptionValue v = OscoreProtection.decodeRequestOption(received, true);
        byte[] optionValue = received.getOptions().getOscore();
        byte[] payload = received.getPayload();
        if (v.kidContext() == null) {
            throw new OscoreException.ContextNotFound("Group OSCORE requests carry the Gid as kid context");
        }
        GroupContext ctx = db.find(v.kidContext());
        if (ctx == null) {
            throw new OscoreException.ContextNotFound("no group context for this Gid");
        }
        GroupMode mode = v.groupFlag() ? GroupMode.GROUP : GroupMode.PAIRWISE;
        checkModeSupported(ctx, mode);
        if (ctx.senderIdRaw() != null && Arrays.equals(v.kid(), ctx.senderIdRaw())) {
            throw new OscoreException.ContextNotFound("request carries this server's own Sender ID (GRP-23)");
        }
        RecipientContext client = ctx.recipient(v.kid());
        if (client == null) {
            throw new OscoreException.ContextNotFound("no credential for this kid in the group");
        }
        byte[] piv = v.partialIv();
        long seq = OscoreProtection.toLong(piv);
        ReplayWindow window = client.replayWindow();
        ReplayWindow.Verdict pre = window.check(seq);
        if (pre == ReplayWindow.Verdict.REPLAYED || pre == ReplayWindow.Verdict.TOO_OLD) {
            throw new OscoreException.Replay("Partial IV " + seq + " " + pre);
        }
        byte[] classI = Plaintext.encodeOptions(classifier.classIOptions(received.getOptions()));
        byte[] aadArray = aadArray(ctx, v.kid(), piv, classI, v.kidContext(), optionValue, client.credential().encodedUnsafe());
        byte[] pt = mode == GroupMode.GROUP
                ? verifyAndOpen(ctx, client, client.groupKey(), v.kid(), piv, true, aadArray, payload)
                : open(ctx, client.pairwiseRecipientKey(), ctx.algorithms().aead(), v.kid(), piv, aadArray, payload);
        Plaintext p = Plaintext.decode(pt, optionRegistry);
        if (!CoAP.isRequest(p.code())) {
            throw new OscoreException.DecodeFailure("inner code is not a request code");
        }
        byte[] echo = null;
        boolean observe = false;
        for (Option o : p.options()) {
            if (o.getNumber() == OptionNumberRegistry.OSCORE) {
                throw new OscoreException.DecodeFailure("OSCORE option inside the plaintext (nesting is off)");
            }
            if (o.getNumber() == StandardOptionRegistry.ECHO.getNumber()) {
                echo = o.getValue();
            }
            observe |= o.getNumber() == OptionNumberRegistry.OBSERVE;
        }
        GroupServerBinding binding = new GroupServerBinding(ctx, client, piv, v.kidContext(), mode, observe);
        if (pre == ReplayWindow.Verdict.WINDOW_INVALID) {
            String key = echoKey(ctx, v.kid());
            byte[] expected = pendingEcho.get(key);
            if (echo != null && expected != null && MessageDigest.isEqual(echo, expected)) {
                pendingEcho.remove(key, expected);
                window.reinitialise(seq);
            } else {
                byte[] fresh = new byte[8];
                random.nextBytes(fresh);
                pendingEcho.put(key, fresh);
                throw new GroupEchoRequired(binding, fresh);
            }
        } else if (window.accept(seq) != ReplayWindow.Verdict.FRESH) {
            throw new OscoreException.Replay("Partial IV " + seq + " seen meanwhile");
        }
        VerifiedGroupRequest out = new VerifiedGroupRequest(Code.valueOf(p.code()), binding);
        OscoreProtection.copyHeader(received, out);
        out.setSourceContext(received.getSourceContext());
        out.setLocalAddress(received.getLocalAddress(), received.isMulticast());
        for (Option o : received.getOptions().asSortedList()) {
            if (classifier.keepOuterOnReceive(o.getNumber())) {
                out.getOptions().addOption(o);
            }
        }
        Plaintext.addAll(out.getOptions(), p.options());
        if (p.payload().length > 0) {
            out.setPayload(p.payload());
        }
        return out;
    }

    private static String echoKey(GroupContext ctx, byte[] kid) {
        return dev.coterie.keystore.Hex.encode(ctx.gidRaw()) + "/" + dev.coterie.keystore.Hex.encode(kid);
    }

    /** Forgets every pending Echo value of an epoch (GRP-25: deleted on rekeying). */
    public void forgetEchoes(GroupContext ctx) {
        String prefix = dev.coterie.keystore.Hex.encode(ctx.gidRaw()) + "/";
        pendingEcho.keySet().removeIf(k -> k.startsWith(prefix));
    }

    /* ================================================================== server: response */

    /**
     * Protects a response in {@code mode}, with {@code ctx} (the current epoch, which may be
     * newer than the one that verified the request: GRP-20, GRP-21). Responses to group-mode
     * requests always carry kid and the server's own Partial IV.
     */
    public Response protectResponse(Response plain, GroupServerBinding b, GroupContext ctx, GroupMode mode,
                                    boolean freshPartialIv) throws OscoreException {
        checkModeSupported(ctx, mode);
        if (ctx.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent server sends no responses");
        }
        boolean newEpoch = ctx != b.context();
        boolean fresh = freshPartialIv || newEpoch || b.mode() == GroupMode.GROUP || plain.getOptions().hasObserve();
        byte[] piv = fresh ? OscoreProtection.partialIv(next(ctx)) : null;
        boolean withKid = b.mode() == GroupMode.GROUP || mode == GroupMode.GROUP || newEpoch;
        byte[] kidContext = newEpoch ? ctx.gidRaw() : null;
        byte[] option = new OscoreOptionValue(piv, kidContext, withKid ? ctx.senderIdRaw() : null, mode == GroupMode.GROUP).encode();
        OptionClassifier.Split split = classifier.split(plain.getOptions(), false);
        byte[] requestKid = b.client().idRaw();
        byte[] aadArray = aadArray(ctx, requestKid, b.requestPivRaw(), split.classI, b.requestKidContextRaw(), option,
                ctx.ownCredRaw());
        byte[] pivForNonce = piv != null ? piv : b.requestPivRaw();
        byte[] idForNonce = piv != null ? ctx.senderIdRaw() : requestKid;
        byte[] pt = Plaintext.encode(plain.getRawCode(), split.inner, OscoreProtection.payloadOf(plain));
        byte[] payload;
        if (mode == GroupMode.GROUP) {
            payload = sealAndSign(ctx, ctx.senderGroupKey(), idForNonce, pivForNonce, false, aadArray, pt);
        } else {
            RecipientContext client = newEpoch ? ctx.recipient(requestKid) : b.client();
            if (client == null) {
                throw new OscoreException.ProtectionRefused("the client is not a member of the new epoch");
            }
            payload = seal(ctx, client.pairwiseSenderKey(), ctx.algorithms().aead(), idForNonce, pivForNonce, aadArray, pt);
        }
        Response out = new Response(plain.getOptions().hasObserve() ? ResponseCode.CONTENT : ResponseCode.CHANGED);
        OscoreProtection.copyHeader(plain, out);
        out.setDestinationContext(plain.getDestinationContext());
        addOuter(out.getOptions(), split.outer, option);
        out.setPayload(payload);
        return out;
    }

    /* ================================================================== client: response */

    /**
     * Verifies a response to {@code b}'s request. {@code epochs} finds a newer epoch when the
     * response carries a new Gid (may be null). Enforces GRP-19 (one Response Number per server)
     * and GRP-22 (a response to a pairwise request comes from the addressed server).
     */
    public VerifiedGroupResponse verifyResponse(Response received, GroupRequestBinding b, GroupContextDb epochs)
            throws OscoreException {
        byte[] optionValue = received.getOptions().getOscore();
        if (optionValue == null) {
            throw new OscoreException.DecodeFailure("response carries no OSCORE option");
        }
        OscoreOptionValue v = OscoreOptionValue.decode(optionValue, true);
        byte[] payload = received.getPayload();
        if (payload == null || payload.length == 0) {
            throw new OscoreException.DecodeFailure("OSCORE response without payload");
        }
        GroupContext ctx = b.context();
        if (v.kidContext() != null && !Arrays.equals(v.kidContext(), ctx.gidRaw())) {
            ctx = epochs == null ? null : epochs.find(v.kidContext());
            if (ctx == null) {
                throw new OscoreException.ContextNotFound("response protected with an unknown Gid");
            }
        }
        GroupMode mode = v.groupFlag() ? GroupMode.GROUP : GroupMode.PAIRWISE;
        checkModeSupported(ctx, mode);
        byte[] kid = v.kid();
        if (kid == null) {
            if (b.mode() != GroupMode.PAIRWISE) {
                throw new OscoreException.DecodeFailure("a response to a group-mode request must carry kid");
            }
            kid = b.targetRaw();
        }
        if (b.mode() == GroupMode.PAIRWISE && !Arrays.equals(kid, b.targetRaw())) {
            throw new OscoreException.ContextNotFound("response from a member other than the addressed server (GRP-22)");
        }
        RecipientContext server = ctx.recipient(kid);
        if (server == null) {
            throw new OscoreException.ContextNotFound("no credential for the responding member");
        }
        byte[] piv = v.partialIv();
        byte[] pivForNonce = piv != null ? piv : b.requestPivRaw();
        byte[] idForNonce = piv != null ? kid : b.requestKidRaw();
        byte[] classI = Plaintext.encodeOptions(classifier.classIOptions(received.getOptions()));
        byte[] aadArray = aadArray(ctx, b.requestKidRaw(), b.requestPivRaw(), classI, b.requestKidContextRaw(),
                optionValue, server.credential().encodedUnsafe());
        byte[] pt = mode == GroupMode.GROUP
                ? verifyAndOpen(ctx, server, server.groupKey(), idForNonce, pivForNonce, false, aadArray, payload)
                : open(ctx, server.pairwiseRecipientKey(), ctx.algorithms().aead(), idForNonce, pivForNonce, aadArray, payload);
        Plaintext p = Plaintext.decode(pt, optionRegistry);
        if (!CoAP.isResponse(p.code())) {
            throw new OscoreException.DecodeFailure("inner code is not a response code");
        }
        boolean innerObserve = false;
        for (Option o : p.options()) {
            innerObserve |= o.getNumber() == OptionNumberRegistry.OBSERVE;
            if (o.getNumber() == OptionNumberRegistry.OSCORE) {
                throw new OscoreException.DecodeFailure("OSCORE option inside the plaintext (nesting is off)");
            }
        }
        if (innerObserve && !b.isObserve()) {
            throw new OscoreException.DecodeFailure("inner Observe in a response to a non-Observe request");
        }
        // Response Number: updated only now, after verification (GRP-19)
        if (piv != null) {
            if (!b.acceptResponseNumber(ctx.gidRaw(), kid, OscoreProtection.toLong(piv))) {
                throw new OscoreException.Replay("this server used that Partial IV before in this exchange");
            }
        } else if (!b.acceptResponseWithoutPiv(ctx.gidRaw(), kid)) {
            throw new OscoreException.Replay("a second response without Partial IV from this server");
        }
        Response out = new Response(ResponseCode.valueOf(p.code()));
        OscoreProtection.copyHeader(received, out);
        out.setSourceContext(received.getSourceContext());
        Plaintext.addAll(out.getOptions(), p.options());
        if (innerObserve) {
            out.getOptions().setObserve(b.notificationNumber(ctx.gidRaw(), piv == null ? -1 : OscoreProtection.toLong(piv)));
        }
        if (p.payload().length > 0) {
            out.setPayload(p.payload());
        }
        return new VerifiedGroupResponse(out, kid.clone(), mode, ctx);
    }

    /* ================================================================== building blocks */

    private static void checkModeSupported(GroupContext ctx, GroupMode mode) throws OscoreException {
        if (mode == GroupMode.GROUP && !ctx.algorithms().groupMode()) {
            throw new OscoreException.ContextNotFound("group mode is not used in this group");
        }
        if (mode == GroupMode.PAIRWISE && (!ctx.algorithms().pairwiseMode() || ctx.isSilent())) {
            throw new OscoreException.DecodeFailure("pairwise mode is not available here");
        }
    }

    private static long next(GroupContext ctx) throws OscoreException {
        try {
            return ctx.senderSequence().next();
        } catch (StateUnavailableException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
    }

    /** The 9-element aad_array of Section 4.3 (GRP-08). */
    static byte[] aadArray(GroupContext ctx, byte[] requestKid, byte[] requestPiv, byte[] classI, byte[] requestKidContext,
                           byte[] oscoreOption, byte[] senderCred) {
        byte[] gm = ctx.gmCredRaw();
        return new CborWriter(64 + senderCred.length + gm.length + classI.length)
                .array(9).integer(1).raw(ctx.algorithmsCbor()).bytes(requestKid).bytes(requestPiv).bytes(classI)
                .bytes(requestKidContext).bytes(oscoreOption).bytes(senderCred).bytes(gm).toByteArray();
    }

    static byte[] encStructure(byte[] aadArray) {
        return OscoreProtection.encStructure(aadArray);
    }

    /** ["CounterSignature0", h'', h'', external_aad, ciphertext] (GRP-11, digest Q-02). */
    static byte[] countersignStructure(byte[] aadArray, byte[] ciphertext) {
        return new CborWriter(aadArray.length + ciphertext.length + 32).raw(SIG_PREFIX).bytes(aadArray).bytes(ciphertext)
                .toByteArray();
    }

    /** [id, id_context, is_request, L]: the keystream info of Section 4.1 (GRP-12). */
    static byte[] keystreamInfo(byte[] id, byte[] gid, boolean request, int length) {
        return new CborWriter(32).array(4).bytes(id).bytes(gid).bool(request).integer(length).toByteArray();
    }

    private static byte[] seal(GroupContext ctx, AeadKey key, AeadAlgorithm alg, byte[] idPiv, byte[] piv,
                               byte[] aadArray, byte[] pt) {
        return key.seal(ctx.nonce(idPiv, piv, alg.nonceLength()), encStructure(aadArray), pt);
    }

    private static byte[] sealAndSign(GroupContext ctx, AeadKey key, byte[] idPiv, byte[] piv, boolean request,
                                      byte[] aadArray, byte[] pt) {
        byte[] ct = seal(ctx, key, ctx.algorithms().groupEncryption(), idPiv, piv, aadArray, pt);
        SignatureAlgorithm sa = ctx.algorithms().signature();
        byte[] sig = ctx.provider().sign(sa, ctx.signingKey(), countersignStructure(aadArray, ct));
        byte[] encSig = ctx.provider().xorWithKeystream(ctx.algorithms().hkdf(), piv, ctx.signatureEncryptionKey(),
                keystreamInfo(idPiv, ctx.gidRaw(), request, sig.length), sig);
        byte[] payload = Arrays.copyOf(ct, ct.length + encSig.length);
        System.arraycopy(encSig, 0, payload, ct.length, encSig.length);
        return payload;
    }

    private static byte[] open(GroupContext ctx, AeadKey key, AeadAlgorithm alg, byte[] idPiv, byte[] piv,
                               byte[] aadArray, byte[] ct) throws OscoreException {
        try {
            return key.open(ctx.nonce(idPiv, piv, alg.nonceLength()), encStructure(aadArray), ct);
        } catch (AeadFailure e) {
            throw new OscoreException.DecryptionFailed("did not authenticate");
        }
    }

    /** Signature first (GRP-14), then decryption; a bad signature is "Decryption failed" (table 2.9). */
    private static byte[] verifyAndOpen(GroupContext ctx, RecipientContext sender, AeadKey key, byte[] idPiv, byte[] piv,
                                        boolean request, byte[] aadArray, byte[] payload) throws OscoreException {
        SignatureAlgorithm sa = ctx.algorithms().signature();
        int sigLen = sa.signatureLength();
        if (payload.length < sigLen + ctx.algorithms().groupEncryption().tagLength()) {
            throw new OscoreException.DecryptionFailed("payload shorter than tag and signature");
        }
        byte[] ct = Arrays.copyOf(payload, payload.length - sigLen);
        byte[] encSig = Arrays.copyOfRange(payload, payload.length - sigLen, payload.length);
        HkdfAlgorithm h = ctx.algorithms().hkdf();
        byte[] sig = ctx.provider().xorWithKeystream(h, piv, ctx.signatureEncryptionKey(),
                keystreamInfo(idPiv, ctx.gidRaw(), request, sigLen), encSig);
        if (!ctx.provider().verify(sa, sender.credential().publicKey(), countersignStructure(aadArray, ct), sig)) {
            throw new OscoreException.DecryptionFailed("signature did not verify");
        }
        return open(ctx, key, ctx.algorithms().groupEncryption(), idPiv, piv, aadArray, ct);
    }

    private static void addOuter(OptionSet set, List<Option> outer, byte[] oscoreOption) {
        for (Option o : outer) {
            set.addOption(o);
        }
        set.setOscore(oscoreOption);
    }

}
