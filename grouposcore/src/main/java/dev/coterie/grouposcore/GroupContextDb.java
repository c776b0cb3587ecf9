package dev.coterie.grouposcore;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestVerifier;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * Group contexts by Gid (the kid context of every Group OSCORE request), and a server's resolver
 * for incoming group requests (Section 6, GRP-17): the Gid names the epoch, the Group Flag the
 * mode, the kid the member; a Request-Hash with the Deterministic Client's kid makes it a
 * deterministic request (DET-05). Holds several epochs during a rekey so that long exchanges keep
 * working (GRP-20, GRP-21); epochs are ordered by installation, so an older one never counts as
 * newer.
 */
public final class GroupContextDb implements RequestVerifier.Resolver {
    /**
     * The mode a server answers in: the request's; pairwise for group-mode requests when the group
     * has pairwise mode; or group mode for every request when the group has it (Section 7.3 and 8.3
     * allow a response in either mode).
     */
    public enum ResponseMode { SAME_AS_REQUEST, PAIRWISE_WHEN_POSSIBLE, GROUP_WHEN_POSSIBLE }

    private final Map<String, GroupContext> byGid = new ConcurrentHashMap<>();
    private final Map<String, GroupContext> currentByName = new ConcurrentHashMap<>();
    private final Map<GroupContext, Integer> order = new ConcurrentHashMap<>();
    private volatile ResponseMode responseMode = ResponseMode.SAME_AS_REQUEST;
    private int installed;

    public synchronized GroupContextDb add(GroupContext ctx) {
        if (byGid.putIfAbsent(Hex.encode(ctx.gidRaw()), ctx) != null) {
            throw new IllegalArgumentException("a group context with Gid " + Hex.encode(ctx.gidRaw()) + " is already installed");
        }
        order.put(ctx, ++installed);
        currentByName.putIfAbsent(ctx.name(), ctx);
        return this;
    }

    /**
     * Installs a new epoch of a group (same name, new Gid and keys, GRP-29) and makes it the one
     * responses are protected with; the old epoch stays findable for messages still in flight,
     * and its pending Echo values are deleted (GRP-25).
     */
    public synchronized GroupContextDb installEpoch(GroupContext next) {
        GroupContext previous = currentByName.get(next.name());
        add(next);
        currentByName.put(next.name(), next);
        if (previous != null) {
            previous.forgetEchoes();
        }
        return this;
    }

    /** How this server answers requests (default: {@link ResponseMode#SAME_AS_REQUEST}, in the request's mode). */
    public GroupContextDb responseMode(ResponseMode m) {
        responseMode = Objects.requireNonNull(m);
        return this;
    }

    ResponseMode responseMode() {
        return responseMode;
    }

    /** The current epoch of {@code ctx}'s group (GRP-20: long exchanges move to it). */
    public GroupContext current(GroupContext ctx) {
        return currentByName.getOrDefault(ctx.name(), ctx);
    }

    /** Installation order of an epoch (higher is newer); 0 for one this database never held. */
    int order(GroupContext ctx) {
        return order.getOrDefault(ctx, 0);
    }

    /** Removes an epoch (after a rekey, once its long exchanges are over). */
    public void remove(GroupContext ctx) {
        byGid.remove(Hex.encode(ctx.gidRaw()), ctx);
    }

    public GroupContext find(byte[] gid) {
        return gid == null ? null : byGid.get(Hex.encode(gid));
    }

    @Override
    public boolean understandsGroupFlag() {
        return true;
    }

    /**
     * GRP-23, decided per exchange: the resolver of the one exchange in which this server
     * processes its own phantom request (observe-multicast-notifications Section 4.1 step 3 and
     * Section 9.2.1). It accepts exactly {@code phantom}, the message the server just protected
     * (the same OSCORE option and payload bytes, group mode, the server's own Sender ID as kid),
     * verified with the server's own credential and key and with no Replay Window (its own Sender
     * Sequence Number just produced that Partial IV). Any other request, among them one from the
     * network that carries the server's own Sender ID, goes to {@link #resolve}, which still
     * refuses it.
     */
    public RequestVerifier.Resolver ownPhantom(Request phantom) {
        byte[] option = phantom.getOptions().getOscore();
        byte[] payload = phantom.getPayload();
        if (option == null || payload == null) {
            throw new IllegalArgumentException("not a protected phantom request");
        }
        byte[] optionCopy = option.clone();
        byte[] payloadCopy = payload.clone();
        GroupContextDb db = this;
        return new RequestVerifier.Resolver() {
            @Override
            public boolean understandsGroupFlag() {
                return true;
            }

            @Override
            public RequestVerifier resolve(OscoreOptionValue v, Request received, byte[] requestHash) throws OscoreException {
                GroupContext ctx = v.kidContext() == null ? null : find(v.kidContext());
                boolean isThePhantom = received == phantom && ctx != null && v.groupFlag() && requestHash == null
                        && ctx.senderIdRaw() != null && Arrays.equals(v.kid(), ctx.senderIdRaw())
                        && Arrays.equals(received.getOptions().getOscore(), optionCopy)
                        && Arrays.equals(received.getPayload(), payloadCopy);
                if (!isThePhantom) {
                    return db.resolve(v, received, requestHash); // every other request: the rules as always
                }
                GroupCose.checkModeSupported(ctx, ProtectionMode.GROUP);
                return PhantomVerifier.own(ctx, db);
            }
        };
    }

    /**
     * A client's resolver for the phantom request rebuilt from an informative response's ph_req
     * (observe-multicast-notifications Section 9.3.1): group mode only, the sender a known member
     * other than this one, and a verifier without replay check or Replay Window update.
     */
    public RequestVerifier.Resolver phantomVerification() {
        return new RequestVerifier.Resolver() {
            @Override
            public boolean understandsGroupFlag() {
                return true;
            }

            @Override
            public RequestVerifier resolve(OscoreOptionValue v, Request received, byte[] requestHash) throws OscoreException {
                if (v.kidContext() == null) {
                    throw new OscoreException.ContextNotFound("a phantom request carries the Gid as kid context");
                }
                GroupContext ctx = find(v.kidContext());
                if (ctx == null) {
                    throw new OscoreException.ContextNotFound("no group context for the phantom's Gid");
                }
                if (!v.groupFlag() || requestHash != null) {
                    throw new OscoreException.DecodeFailure("a phantom request is protected in group mode (digest 6.6)");
                }
                GroupCose.checkModeSupported(ctx, ProtectionMode.GROUP);
                if (ctx.senderIdRaw() != null && Arrays.equals(v.kid(), ctx.senderIdRaw())) {
                    throw new OscoreException.ContextNotFound("phantom under this member's own Sender ID (GRP-23)");
                }
                RecipientContext server = ctx.recipient(v.kid());
                if (server == null) {
                    throw new OscoreException.ContextNotFound("no credential for the phantom's kid in the group");
                }
                return PhantomVerifier.of(ctx, server);
            }
        };
    }

    @Override
    public RequestVerifier resolve(OscoreOptionValue v, Request received, byte[] requestHash) throws OscoreException {
        if (v.kidContext() == null) {
            throw new OscoreException.ContextNotFound("Group OSCORE requests carry the Gid as kid context");
        }
        GroupContext ctx = find(v.kidContext());
        if (ctx == null) {
            throw new OscoreException.ContextNotFound("no group context for this Gid");
        }
        byte[] det = ctx.deterministicSenderIdRaw();
        if (det != null && requestHash != null && !v.groupFlag() && Arrays.equals(v.kid(), det)) {
            return new DeterministicVerifier(ctx, this);
        }
        ProtectionMode mode = v.groupFlag() ? ProtectionMode.GROUP : ProtectionMode.PAIRWISE;
        GroupCose.checkModeSupported(ctx, mode);
        if (ctx.senderIdRaw() != null && Arrays.equals(v.kid(), ctx.senderIdRaw())) {
            throw new OscoreException.ContextNotFound("request carries this server's own Sender ID (GRP-23)");
        }
        RecipientContext client = ctx.recipient(v.kid());
        if (client == null) {
            throw new OscoreException.ContextNotFound("no credential for this kid in the group");
        }
        return new GroupRequestVerifier(ctx, client, mode, this);
    }
}
