package dev.coterie.grouposcore;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.Plaintext;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.SealingNonce;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * A member's view for deterministic requests in the name of the group's Deterministic Client
 * (cacheable-oscore Section 3.3): kid = det Sender ID, Partial IV 0, empty sender_cred,
 * H = Hash(SenderKey_det || aad_array || plaintext), the request key derived from H, Request-Hash
 * outer (class U), outer code FETCH. Any member, and the member's keys are not used: every member
 * builds the same protected request for the same plain request, which is what makes the
 * response cacheable. The plain request may get an inner Observe 0, as the draft advises, and
 * Padding (all-zero, class E) up to an agreed plaintext length.
 */
final class DeterministicProtector implements RequestProtector {
    private final GroupContext ctx;
    private final RecipientContext target;
    private final GroupContextDb epochs;
    private final int paddingNumber;
    private final boolean innerObserveZero;
    private final int padTo;

    /**
     * @param target the one member addressed (its kid, if a response carries one, must match), or
     *     null when the request goes to the group and every member may answer
     * @param padTo the plaintext length to pad to with the Padding option, or 0 for none
     */
    DeterministicProtector(GroupContext ctx, RecipientContext target, GroupContextDb epochs, ExtensionOptionRegistry registry,
                           boolean innerObserveZero, int padTo) {
        if (ctx.deterministicSenderId() == null) {
            throw new IllegalArgumentException("group " + ctx.name() + " has no deterministic client (det_sender_id)");
        }
        this.ctx = ctx;
        this.target = target;
        this.epochs = epochs;
        this.paddingNumber = registry.byName(ExtensionOptionRegistry.PADDING).number();
        this.innerObserveZero = innerObserveZero;
        this.padTo = padTo;
    }

    @Override
    public ProtectionMode mode() {
        return ProtectionMode.DETERMINISTIC;
    }

    @Override
    public String contextName() {
        return ctx.name();
    }

    @Override
    public String describe() {
        return GroupViews.describe(ctx, ProtectionMode.DETERMINISTIC);
    }

    @Override
    public void checkDestination(Request plain) throws OscoreException.ProtectionRefused {
        if (plain.getCode() != Code.GET && plain.getCode() != Code.FETCH) {
            throw new OscoreException.ProtectionRefused("deterministic requests must be safe: GET or FETCH (DET-06)");
        }
        // the port and the multicast guard are checked for every view by ProtectionPipeline.protectRequest
    }

    @Override
    public byte[] plaintext(int code, List<Option> inner, byte[] payload) {
        List<Option> options = new ArrayList<>(inner);
        if (innerObserveZero && options.stream().noneMatch(o -> o.getNumber() == OptionNumberRegistry.OBSERVE)) {
            options.add(StandardOptionRegistry.OBSERVE.create(0));
        }
        options.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
        byte[] pt = Plaintext.encode(code, options, payload);
        if (padTo > pt.length) {
            options.add(new Option(new OpaqueOptionDefinition(paddingNumber, ExtensionOptionRegistry.PADDING, false),
                    new byte[paddingLength(options, pt.length)]));
            options.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
            pt = Plaintext.encode(code, options, payload);
        }
        return pt;
    }

    /** The shortest all-zero Padding value that brings the plaintext to at least {@code padTo} bytes. */
    private int paddingLength(List<Option> options, int current) {
        for (int value = 0; ; value++) {
            List<Option> trial = new ArrayList<>(options);
            trial.add(new Option(paddingNumber, new byte[value]));
            trial.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
            if (Plaintext.encodeOptions(trial).length - Plaintext.encodeOptions(options).length + current >= padTo) {
                return value;
            }
        }
    }

    @Override
    public SealedRequest seal(byte[] classI, byte[] plaintext, boolean observe) throws OscoreException {
        byte[] sid = ctx.deterministicSenderIdRaw();
        SealingNonce n = SealingNonce.deterministicRequest(sid);
        byte[] piv = n.partialIvToSend();
        byte[] gid = ctx.gidRaw();
        byte[] option = new OscoreOptionValue(piv, gid, sid, false).encode();
        byte[] aad = GroupCose.aadArray(ctx, sid, piv, classI, gid, option, new byte[0]);
        byte[] h = ctx.deterministicRequestHash(aad, plaintext);
        byte[] payload = GroupCose.seal(ctx, ctx.deterministicRequestKey(h), ctx.algorithms().aead(), n, aad, plaintext);
        RequestIdentifiers ids = RequestIdentifiers.builder().mode(ProtectionMode.DETERMINISTIC).contextName(ctx.name())
                .kid(sid).partialIv(piv).kidContext(gid).requestHash(h).observe(observe)
                .responseVerifier(new GroupResponseVerifier(ctx, epochs, ProtectionMode.DETERMINISTIC, target,
                        target == null ? null : target.credential()))
                .peer(target == null ? null : new OscorePeer(ProtectionMode.GROUP, ctx.name(), target.idRaw(), gid))
                .build();
        return new SealedRequest(option, payload, h, ids);
    }
}
