package dev.coterie.oscore;

import dev.coterie.keystore.CborReader;
import dev.coterie.keystore.CborWriter;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The value of the Reply-From option (draft-ietf-core-groupcomm-proxy Section 3, digest 5.1): a
 * CBOR sequence, with no enclosing array, of the CRI of the server that answered (scheme and
 * authority only) and, for a reverse proxy standing in for each server, a CRI reference
 * {@code [null, authority]} or {@code [null, authority, path]} that the client copies into
 * Uri-Host, Uri-Port and Uri-Path of follow-up requests.
 *
 * <p>Decoding is strict: any other shape, a trailing default section, a second reference, bytes
 * after the sequence, indefinite lengths or a value outside 5-1034 bytes is refused with an
 * {@link IllegalArgumentException} that names the position, never the value.
 *
 * @param target the CRI of the origin server, or of the reverse proxy standing in for it
 * @param refAuthority the reference's authority, or null when there is no reference
 * @param refPath the reference's path segments (empty when it has none)
 */
public record ReplyFrom(Cri target, Cri.Authority refAuthority, List<String> refPath) {
    /** The option's length bounds (digest 5.1). */
    public static final int MIN_LENGTH = 5;
    public static final int MAX_LENGTH = 1034;

    public ReplyFrom {
        refPath = List.copyOf(refPath);
        if (target.authority() == null || target.authority() == Cri.ROOTLESS || !target.path().isEmpty()
                || !target.query().isEmpty() || target.fragment() != null) {
            throw new IllegalArgumentException("Reply-From: the target is a CRI of scheme and authority only");
        }
        if (refAuthority == null && !refPath.isEmpty()) {
            throw new IllegalArgumentException("Reply-From: a reference path needs the reference's authority here");
        }
        if (refAuthority != null && !target.authority().isIp()) {
            // groupcomm-proxy Section 3: with an authority in the reference, the target must not use a host name
            throw new IllegalArgumentException("Reply-From: a target with a host name cannot come with a reference authority");
        }
    }

    /** What a forward proxy adds to a server's response: coap, the server's source address and port. */
    public static ReplyFrom of(InetSocketAddress server) {
        int port = server.getPort() == 5683 ? -1 : server.getPort(); // the default port is left out (href, RECOMMENDED)
        Cri.Authority a = new Cri.Authority(null, server.getAddress().getAddress(), null, List.of(), port);
        return new ReplyFrom(new Cri(-1L, a, List.of(), List.of(), null), null, List.of());
    }

    /** Decodes an option value strictly (see the class comment). */
    public static ReplyFrom decode(byte[] value) {
        if (value == null || value.length < MIN_LENGTH || value.length > MAX_LENGTH) {
            throw new IllegalArgumentException("Reply-From: the value is " + MIN_LENGTH + " to " + MAX_LENGTH + " bytes, not "
                    + (value == null ? 0 : value.length));
        }
        CborReader r = new CborReader(value, "Reply-From");
        Cri target = Cri.read(r, "Reply-From target");
        if (target.scheme() instanceof String) {
            throw r.error("the target's scheme must be a scheme-id");
        }
        Cri.Authority refAuthority = null;
        List<String> refPath = List.of();
        if (!r.atEnd()) {
            int n = r.readArrayHeader();
            if (n != 2 && n != 3) {
                throw r.error("the reference is [null, authority] or [null, authority, path], not " + n + " items");
            }
            if (!r.peekSimple(22)) {
                throw r.error("the reference starts with null (no scheme)");
            }
            r.readNull();
            if (r.peekSimple(22) || r.peekSimple(21)) {
                throw r.error("the reference gives an authority");
            }
            refAuthority = Cri.authority(r);
            if (n == 3) {
                int segments = r.readArrayHeader();
                if (segments == 0) {
                    throw r.error("an empty trailing path must be left out");
                }
                String[] path = new String[segments];
                for (int i = 0; i < segments; i++) {
                    path[i] = r.readText();
                }
                refPath = List.of(path);
            }
        }
        r.end(); // nothing after the sequence: one target, at most one reference
        return new ReplyFrom(target, refAuthority, refPath);
    }

    /** The option value: the target CRI, then the reference if there is one. */
    public byte[] encode() {
        byte[] t = target.encode();
        if (refAuthority == null) {
            return t;
        }
        CborWriter w = new CborWriter(64).raw(t).array(refPath.isEmpty() ? 2 : 3).nil();
        Cri.writeAuthority(w, refAuthority);
        if (!refPath.isEmpty()) {
            w.array(refPath.size());
            refPath.forEach(w::text);
        }
        return w.toByteArray();
    }
}
