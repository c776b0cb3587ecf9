package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;

/**
 * A request verified, but it must not be processed; it is answered with a protected error
 * (never to a group request, which gets silence). The identifiers never let the answer reuse
 * the request nonce:
 * <ul>
 * <li>4.01 with an Echo option: the replay window is invalid (RFC 8613 Appendix B.1.2, GRP-24, GRP-25);
 * <li>4.02: an unrecognized critical inner option (RFC 7252 Section 5.4.1);
 * <li>4.05: an inner method code Californium does not know (RFC 7252 Section 5.8);
 * <li>4.01: a deterministic request with an unsafe method (DET-06).
 * </ul>
 */
public final class ProtectedAnswerRequired extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient RequestIdentifiers identifiers;
    private final ResponseCode code;
    private final byte[] echo;
    private final String diagnostic;

    ProtectedAnswerRequired(RequestIdentifiers identifiers, ResponseCode code, byte[] echo, String diagnostic) {
        super(diagnostic, null, false, false);
        this.identifiers = identifiers;
        this.code = code;
        this.echo = echo;
        this.diagnostic = diagnostic;
    }

    public RequestIdentifiers identifiers() { return identifiers; }
    public ResponseCode code() { return code; }
    /** The Echo value of a freshness challenge, or null. */
    public byte[] echo() { return echo == null ? null : echo.clone(); }
    /** The diagnostic payload, or null (an Echo challenge carries only the Echo option). */
    public String diagnostic() { return diagnostic; }
}
