package dev.coterie.oscore;

import dev.coterie.keystore.CborReader;
import dev.coterie.keystore.CborWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The payload of an informative response (observe-multicast-notifications Section 4.2, digest
 * 6.2, OMN-01): a CBOR map with the integer keys of the "Informative Response Parameters"
 * registry. Keys 0-7 and 14-17 are typed here; the algorithm and capability fields (8-13) are
 * kept as their CBOR bytes, checked for well-formedness and type, for whoever installs them
 * (gp_material, App. C, is not acted on: docs/conformance.md). Any other integer or text key is
 * allowed by the CDDL ({@code * (int / tstr) => any}) and is skipped after a well-formedness
 * check; a repeated key, a key of another type, a field of the wrong type, an empty tp_info,
 * trailing bytes: all are refused, and the caller withdraws (digest 6.4 step 7).
 *
 * @param tpInfo 0, the transport information: the tp_info array of tp_info elements (null when absent)
 * @param phReq 1, the phantom request's transport-independent bytes (null when absent)
 * @param lastNotif 2, the latest notification's (null when absent)
 * @param nextNotBefore 3, seconds (null when absent)
 * @param ending 4, a NumericDate, Long or Double (null when absent)
 * @param joinUri 5, group join resource (OMN-12: only with sec_gp)
 * @param secGp 6, the OSCORE group's name (OMN-12: only with join_uri)
 * @param asUri 7
 * @param srvCred 14 (App. C)
 * @param srvIdentifier 15 (App. C)
 * @param exi 16 (App. C), seconds
 * @param exp 17 (App. C), a NumericDate
 * @param groupFields 8-13 as their CBOR bytes, index 0 for key 8; null entries are absent
 */
public record InformativeResponse(TpInfo tpInfo, byte[] phReq, byte[] lastNotif, Long nextNotBefore, Number ending,
                                  String joinUri, String secGp, String asUri, byte[] srvCred, byte[] srvIdentifier, Long exi,
                                  Number exp, List<byte[]> groupFields) {

    /**
     * The Content-Format of application/informative-response+cbor. IANA has not assigned one
     * (requested in 0-255, digest 0.1 and Q-01); the default is 65000 of the Experimental Use
     * range of RFC 7252 Section 12.3, so that no assigned format is taken, and every endpoint
     * takes another number through configuration.
     */
    public static final int DEFAULT_CONTENT_FORMAT = 65000;

    /** A minimal one: tp_info, ph_req and last_notif (any of them null). */
    public static InformativeResponse of(TpInfo tpInfo, byte[] phReq, byte[] lastNotif) {
        return new InformativeResponse(tpInfo, phReq, lastNotif, null, null, null, null, null,
                null, null, null, null, null);
    }

    /** The Group OSCORE hints, only when join_uri and sec_gp are both present (OMN-12); otherwise none. */
    public boolean hasGroupHints() {
        return joinUri != null && secGp != null;
    }

    /** The CBOR map, keys in ascending order (deterministic encoding). */
    public byte[] encode() {
        int n = 0;
        Object[] fields = {tpInfo, phReq, lastNotif, nextNotBefore, ending, joinUri, secGp, asUri};
        for (Object f : fields) {
            n += f != null ? 1 : 0;
        }
        if (groupFields != null) {
            for (byte[] g : groupFields) {
                n += g != null ? 1 : 0;
            }
        }
        Object[] appC = {srvCred, srvIdentifier, exi, exp};
        for (Object f : appC) {
            n += f != null ? 1 : 0;
        }
        CborWriter w = new CborWriter(128).map(n);
        if (tpInfo != null) {
            tpInfo.write(w.integer(0));
        }
        if (phReq != null) {
            w.integer(1).bytes(phReq);
        }
        if (lastNotif != null) {
            w.integer(2).bytes(lastNotif);
        }
        if (nextNotBefore != null) {
            w.integer(3).integer(nextNotBefore);
        }
        if (ending != null) {
            number(w.integer(4), ending);
        }
        if (joinUri != null) {
            w.integer(5).text(joinUri);
        }
        if (secGp != null) {
            w.integer(6).text(secGp);
        }
        if (asUri != null) {
            w.integer(7).text(asUri);
        }
        if (groupFields != null) {
            for (int i = 0; i < groupFields.size(); i++) {
                if (groupFields.get(i) != null) {
                    w.integer(8 + i).raw(groupFields.get(i));
                }
            }
        }
        if (srvCred != null) {
            w.integer(14).bytes(srvCred);
        }
        if (srvIdentifier != null) {
            w.integer(15).bytes(srvIdentifier);
        }
        if (exi != null) {
            w.integer(16).integer(exi);
        }
        if (exp != null) {
            number(w.integer(17), exp);
        }
        return w.toByteArray();
    }

    private static void number(CborWriter w, Number v) {
        if (v instanceof Double d) {
            long bits = Double.doubleToLongBits(d);
            byte[] b = new byte[9];
            b[0] = (byte) 0xfb;
            for (int i = 0; i < 8; i++) {
                b[1 + i] = (byte) (bits >>> (56 - 8 * i));
            }
            w.raw(b);
        } else {
            w.integer(v.longValue());
        }
    }

    /** Decodes strictly; anything malformed is an {@link IllegalArgumentException} that names the field, never the bytes. */
    public static InformativeResponse decode(byte[] payload) {
        CborReader r = new CborReader(payload, "informative response");
        int n = r.readMapHeader();
        Set<Object> seen = new HashSet<>();
        TpInfo tp = null;
        byte[] phReq = null;
        byte[] lastNotif = null;
        Long nnb = null;
        Number ending = null;
        String join = null;
        String secGp = null;
        String as = null;
        byte[] srvCred = null;
        byte[] srvId = null;
        Long exi = null;
        Number exp = null;
        byte[][] group = new byte[6][];
        boolean anyGroup = false;
        for (int i = 0; i < n; i++) {
            Object key = r.readMapKey(seen);
            if (!(key instanceof Long k) || k < 0 || k > 17) {
                r.skipItem(); // registered later, or private: the CDDL allows any
                continue;
            }
            switch (k.intValue()) {
                case 0 -> {
                    if (r.peekMajorType() != CborReader.ARRAY) {
                        throw r.error("tp_info must be an array, found " + r.peekKind());
                    }
                    tp = TpInfo.read(r);
                }
                case 1 -> phReq = bytes(r, "ph_req");
                case 2 -> lastNotif = bytes(r, "last_notif");
                case 3 -> nnb = uint(r, "next_not_before");
                case 4 -> ending = time(r, "ending");
                case 5 -> join = text(r, "join_uri");
                case 6 -> secGp = text(r, "sec_gp");
                case 7 -> as = text(r, "as_uri");
                case 8, 10, 11 -> group[k.intValue() - 8] = intOrText(r, new String[] {"hkdf", "", "gp_enc_alg", "sign_alg"}[
                        k.intValue() - 8]);
                case 9 -> {
                    int major = r.peekMajorType();
                    if (major != CborReader.UINT && major != CborReader.NINT) {
                        throw r.error("cred_fmt must be an integer, found " + r.peekKind());
                    }
                    group[1] = r.readRawItem();
                }
                case 12 -> {
                    if (r.peekMajorType() != CborReader.ARRAY) {
                        throw r.error("sign_params must be an array, found " + r.peekKind());
                    }
                    group[4] = r.readRawItem();
                }
                case 13 -> {
                    if (r.peekMajorType() != CborReader.MAP) {
                        throw r.error("gp_material must be a map, found " + r.peekKind());
                    }
                    group[5] = r.readRawItem();
                }
                case 14 -> srvCred = bytes(r, "srv_cred");
                case 15 -> srvId = bytes(r, "srv_identifier");
                case 16 -> exi = uint(r, "exi");
                default -> exp = time(r, "exp");
            }
        }
        r.end();
        for (byte[] g : group) {
            anyGroup |= g != null;
        }
        return new InformativeResponse(tp, phReq, lastNotif, nnb, ending, join, secGp, as,
                srvCred, srvId, exi, exp, anyGroup ? java.util.Arrays.asList(group) : null);
    }

    private static byte[] bytes(CborReader r, String name) {
        if (r.peekMajorType() != CborReader.BYTES) {
            throw r.error(name + " must be a byte string, found " + r.peekKind());
        }
        return r.readBytes();
    }

    private static String text(CborReader r, String name) {
        if (r.peekMajorType() != CborReader.TEXT) {
            throw r.error(name + " must be a text string, found " + r.peekKind());
        }
        return r.readText();
    }

    private static Long uint(CborReader r, String name) {
        if (r.peekMajorType() != CborReader.UINT) {
            throw r.error(name + " must be an unsigned integer, found " + r.peekKind());
        }
        return r.readInteger();
    }

    private static Number time(CborReader r, String name) {
        if (r.peekFloat()) {
            double d = r.readFloat();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw r.error(name + " must be a finite NumericDate");
            }
            return d;
        }
        int major = r.peekMajorType();
        if (major != CborReader.UINT && major != CborReader.NINT) {
            throw r.error(name + " must be a NumericDate (an integer or a float), found " + r.peekKind());
        }
        return r.readInteger();
    }

    private static byte[] intOrText(CborReader r, String name) {
        int major = r.peekMajorType();
        if (major != CborReader.UINT && major != CborReader.NINT && major != CborReader.TEXT) {
            throw r.error(name + " must be an integer or a text string, found " + r.peekKind());
        }
        return r.readRawItem();
    }

    @Override
    public String toString() {
        return "informative response{tp_info " + tpInfo + (phReq != null ? ", ph_req " + phReq.length + " bytes" : "")
                + (lastNotif != null ? ", last_notif " + lastNotif.length + " bytes" : "") + "}";
    }
}
