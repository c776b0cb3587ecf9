package dev.coterie.grouposcore;

import dev.coterie.oscore.GroupObservationSecurity;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectedAnswerRequired;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import java.util.Objects;
import org.eclipse.californium.core.coap.Request;

/**
 * Group observations protected with Group OSCORE (observe-multicast-notifications Section 9,
 * digest 6.6, OMN-10) for one member of one group: on a server, the phantom request in group
 * mode under the server's own Sender Context, processed by the server itself in an exchange of
 * its own (GRP-23 per exchange, {@link GroupContextDb#ownPhantom}); on a client, the rebuilt
 * phantom verified without replay check or delivery ({@link GroupContextDb#phantomVerification}),
 * and the identifiers that bind every notification to it.
 */
public final class GroupObservationProtection implements GroupObservationSecurity {
    private final GroupContext own;
    private final GroupContextDb db;
    private final ProtectionPipeline pipeline;
    private final dev.coterie.oscore.ExtensionOptionRegistry registry;

    /**
     * @param own this member's context (the epoch a server protects its phantoms with)
     * @param db the member's contexts, {@code own} among them (later epochs are found there)
     */
    public GroupObservationProtection(GroupContext own, GroupContextDb db, ProtectionPipeline pipeline) {
        this(own, db, pipeline, dev.coterie.oscore.ExtensionOptionRegistry.defaults());
    }

    /** @param registry the option numbers deterministic phantoms are built with (Request-Hash, Padding) */
    public GroupObservationProtection(GroupContext own, GroupContextDb db, ProtectionPipeline pipeline,
                                      dev.coterie.oscore.ExtensionOptionRegistry registry) {
        this.registry = Objects.requireNonNull(registry);
        this.own = Objects.requireNonNull(own);
        this.db = Objects.requireNonNull(db);
        this.pipeline = Objects.requireNonNull(pipeline);
        if (db.find(own.gidRaw()) != own) {
            throw new IllegalArgumentException("the member's context is not in its database");
        }
    }

    @Override
    public ProtectionPipeline pipeline() {
        return pipeline;
    }

    @Override
    public Phantom protectPhantom(Request plain) throws OscoreException {
        if (own.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent server has no Sender Context to protect a phantom with");
        }
        GroupContext ctx = db.current(own);
        // kid = own Sender ID, Partial IV = a consumed (persisted) Sender Sequence Number, kid context = Gid
        Request wire = pipeline.protectRequest(plain, ctx.groupMode(db)).wire();
        try {
            ProtectionPipeline.Unprotected<Request> u = pipeline.unprotectRequest(wire, db.ownPhantom(wire));
            return new Phantom(wire, u.plain(), u.identifiers());
        } catch (ProtectedAnswerRequired e) {
            throw new OscoreException.ProtectionRefused("the server's own phantom request did not process: " + e.getMessage());
        }
    }

    /**
     * OMN-13: the phantom as the deterministic request every member builds from the same plain
     * request (no inner Observe added, no Padding: the Observe 0 is the plain request's own), in
     * the current epoch, processed as received by this server (cacheable-oscore 3.4: no replay
     * window, the hash recomputed). No Sender Sequence Number is consumed for it; each
     * notification takes one.
     */
    @Override
    public Phantom protectDeterministicPhantom(Request plain) throws OscoreException {
        if (own.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent server has no Sender Context to protect notifications with");
        }
        GroupContext ctx = db.current(own);
        if (ctx.deterministicSenderId() == null) {
            throw new OscoreException.ProtectionRefused("group " + ctx.name() + " has no Deterministic Client (OMN-13)");
        }
        Request wire = pipeline.protectRequest(plain, ctx.deterministic(null, db, registry, false, 0)).wire();
        try {
            ProtectionPipeline.Unprotected<Request> u = pipeline.unprotectRequest(wire, db);
            if (u.identifiers().mode() != ProtectionMode.DETERMINISTIC) {
                throw new OscoreException.ProtectionRefused("the deterministic phantom did not process as a deterministic request");
            }
            return new Phantom(wire, u.plain(), u.identifiers());
        } catch (ProtectedAnswerRequired e) {
            throw new OscoreException.ProtectionRefused("the server's deterministic phantom did not process: " + e.getMessage());
        }
    }

    @Override
    public Phantom verifyPhantom(Request rebuilt, OscorePeer responder) throws OscoreException {
        if (responder == null) {
            throw new OscoreException.ContextNotFound("no verified responder for the informative response (OMN-11)");
        }
        ProtectionPipeline.Unprotected<Request> u;
        try {
            u = pipeline.unprotectRequest(rebuilt, db.phantomVerification());
        } catch (ProtectedAnswerRequired e) {
            // it verified, but asks for something no response can satisfy (an unrecognised critical option, ...)
            throw new OscoreException.DecodeFailure("the phantom request is not usable: " + e.getMessage());
        }
        RequestIdentifiers v = u.identifiers();
        GroupContext ctx = db.find(v.kidContext());
        RecipientContext server = ctx.recipient(v.kid());
        if (server == null) {
            throw new OscoreException.ContextNotFound("the phantom's server left the group");
        }
        checkResponder(responder, ctx, server);
        RequestIdentifiers binding = RequestIdentifiers.builder().mode(ProtectionMode.GROUP).contextName(ctx.name())
                .kid(v.kid()).partialIv(v.partialIv()).kidContext(v.kidContext()).observe(v.isObserve())
                .responseVerifier(new GroupResponseVerifier(ctx, db, ProtectionMode.GROUP, server, server.credential()))
                .peer(new OscorePeer(ProtectionMode.GROUP, ctx.name(), v.kid(), v.kidContext()))
                .build();
        return new Phantom(rebuilt, u.plain(), binding);
    }

    /**
     * The phantom is protected with the server's own Sender Context (digest 6.6): when a member of
     * the phantom's group protected the informative response (group or pairwise mode), the
     * phantom's server must be that member, or any member's phantom would bind the notifications
     * to that member. Members are compared by credential, as for GRP-22, so a Sender ID changed by
     * a rekey between the two is still the same server. An informative response under another
     * group is not this server's either. One protected under a plain OSCORE context names no
     * group member to compare with.
     */
    private void checkResponder(OscorePeer responder, GroupContext ctx, RecipientContext server)
            throws OscoreException.ContextNotFound {
        if (responder.mode() != ProtectionMode.GROUP && responder.mode() != ProtectionMode.PAIRWISE) {
            return;
        }
        GroupContext epoch = db.find(responder.kidContext());
        if (epoch == null || !epoch.name().equals(ctx.name())) {
            throw new OscoreException.ContextNotFound("the informative response came from " + responder.getName()
                    + ", not from the phantom's group " + ctx.name());
        }
        RecipientContext sender = responder.kid() == null ? null : epoch.recipient(responder.kid());
        if (sender == null || !java.util.Arrays.equals(sender.credential().encodedUnsafe(),
                server.credential().encodedUnsafe())) {
            throw new OscoreException.ContextNotFound("the phantom is protected under kid "
                    + dev.coterie.keystore.Hex.encode(server.idRaw()) + ", not under the Sender ID of the member that sent "
                    + "the informative response (" + responder.getName() + "): not that server's own phantom (digest 6.6)");
        }
    }
}
