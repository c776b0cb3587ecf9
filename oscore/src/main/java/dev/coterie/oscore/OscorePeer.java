package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.security.Principal;
import java.util.Arrays;
import java.util.Objects;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.MapBasedEndpointContext;

/**
 * Who sent a verified message, as the security context that verified it says: the mode, the
 * context's name, and the sender's kid and kid context. The OSCORE layer puts it into the source
 * endpoint context of every verified message, as Californium does for a DTLS peer, so a resource
 * (or a proxy's access control) reads it with {@link #of(Message)}. A message without one was not
 * verified: {@link #isUnprotected(Message)} tells an unprotected OSCORE error response apart.
 */
public final class OscorePeer implements Principal {
    private static final MapBasedEndpointContext.Attributes UNPROTECTED = new MapBasedEndpointContext.Attributes()
            .add(Keys.UNPROTECTED, Boolean.TRUE);
    private static final MapBasedEndpointContext.Attributes INTERMEDIARY = new MapBasedEndpointContext.Attributes()
            .add(Keys.INTERMEDIARY, Boolean.TRUE);

    private final ProtectionMode mode;
    private final String context;
    private final byte[] kid;
    private final byte[] kidContext;

    public OscorePeer(ProtectionMode mode, String context, byte[] kid, byte[] kidContext) {
        this.mode = Objects.requireNonNull(mode);
        this.context = Objects.requireNonNull(context);
        this.kid = kid == null ? null : kid.clone();
        this.kidContext = kidContext == null ? null : kidContext.clone();
    }

    public ProtectionMode mode() { return mode; }
    /** The name of the security context (or group) that verified the message. */
    public String context() { return context; }
    /** The sender's kid (Sender ID), or null when the message carried none and the context implied it. */
    public byte[] kid() { return kid == null ? null : kid.clone(); }
    public byte[] kidContext() { return kidContext == null ? null : kidContext.clone(); }

    /** Definitions of the endpoint-context attributes the OSCORE layer sets. */
    static final class Keys {
        static final org.eclipse.californium.elements.Definition<Boolean> UNPROTECTED =
                new org.eclipse.californium.elements.Definition<>("*COTERIE_UNPROTECTED", Boolean.class,
                        MapBasedEndpointContext.ATTRIBUTE_DEFINITIONS);
        static final org.eclipse.californium.elements.Definition<Boolean> INTERMEDIARY =
                new org.eclipse.californium.elements.Definition<>("*COTERIE_INTERMEDIARY", Boolean.class,
                        MapBasedEndpointContext.ATTRIBUTE_DEFINITIONS);

        private Keys() {
        }
    }

    /** The verified sender of {@code m}, or null if the OSCORE layer did not verify it. */
    public static OscorePeer of(Message m) {
        EndpointContext c = m == null ? null : m.getSourceContext();
        return c != null && c.getPeerIdentity() instanceof OscorePeer p ? p : null;
    }

    /** Whether {@code m} is an unprotected OSCORE error response the layer let through (digest table 1.6). */
    public static boolean isUnprotected(Message m) {
        EndpointContext c = m == null ? null : m.getSourceContext();
        return c != null && Boolean.TRUE.equals(c.get(Keys.UNPROTECTED));
    }

    /** {@code source} with this peer as its identity (the address stays); null stays null (a message parsed off-line). */
    EndpointContext attachTo(EndpointContext source) {
        if (source == null) {
            return null;
        }
        return new MapBasedEndpointContext(source.getPeerAddress(), source.getVirtualHost(), this,
                new MapBasedEndpointContext.Attributes());
    }

    /**
     * Whether {@code m} is an intermediary's own answer: a response verified inside a hop layer
     * that carried no further layer (a proxy's 5.04 or 4.01, not the server's answer). Its
     * {@link #of} is the proxy's hop context.
     */
    public static boolean isFromIntermediary(Message m) {
        EndpointContext c = m == null ? null : m.getSourceContext();
        return c != null && Boolean.TRUE.equals(c.get(Keys.INTERMEDIARY));
    }

    static EndpointContext markIntermediary(EndpointContext verified) {
        if (verified == null) {
            return null;
        }
        return new MapBasedEndpointContext(verified.getPeerAddress(), verified.getVirtualHost(), verified.getPeerIdentity(),
                INTERMEDIARY);
    }

    static EndpointContext markUnprotected(EndpointContext source) {
        if (source == null) {
            return null;
        }
        return new MapBasedEndpointContext(source.getPeerAddress(), source.getVirtualHost(), null, UNPROTECTED);
    }

    @Override
    public String getName() {
        StringBuilder sb = new StringBuilder(mode == ProtectionMode.OSCORE ? "oscore:" : "group:").append(context);
        if (kid != null) {
            sb.append("/kid=").append(kid.length == 0 ? "''" : Hex.encode(kid));
        }
        if (kidContext != null) {
            sb.append("/kid-context=").append(Hex.encode(kidContext));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OscorePeer p && mode == p.mode && context.equals(p.context) && Arrays.equals(kid, p.kid)
                && Arrays.equals(kidContext, p.kidContext);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, context, Arrays.hashCode(kid));
    }

    @Override
    public String toString() {
        return getName() + " (" + mode.label() + ")";
    }
}
