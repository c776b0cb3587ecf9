package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.ResponseProtector;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

/**
 * A whole protected message through {@link ProtectionPipeline#unprotectRequest} and
 * {@link ProtectionPipeline#unprotectResponse}, in the OSCORE view ({@link OscoreFixture}).
 *
 * <p>The first input byte chooses what the rest is; bit 2 chooses pair A or B (with ID Context),
 * bit 3 an Observe request / a notification, bit 4 NON instead of CON:
 * <ul>
 * <li>{@code xxx00}: a datagram to the servers (parsed by Californium; what it refuses is skipped);
 * <li>{@code xxx01}: a datagram answering the client's setup request (fresh Response Numbers each time);
 * <li>{@code xxx10}: a plaintext the client seals into a request: the AEAD holds, so the plaintext
 *     parser, the inner options and the inner code are what is fuzzed;
 * <li>{@code xxx11}: a plaintext the server seals into a response to a fresh request.
 * </ul>
 * Rules: {@link Messages#unprotect}.
 */
class OscoreUnprotectFuzzTest {
    private static final class Holder {
        static final OscoreFixture F;

        static {
            try {
                F = new OscoreFixture();
            } catch (Exception e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    @FuzzTest
    void oscoreMessage(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        if (input.length < 1) {
            return;
        }
        OscoreFixture f = Holder.F;
        int sel = input[0] & 0xff;
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        int pair = (sel >> 2) & 1;
        boolean observe = (sel & 0x08) != 0;
        Type type = (sel & 0x10) != 0 ? Type.NON : Type.CON;
        switch (sel & 3) {
            case 0: {
                Message m = Messages.parse(rest);
                if (m instanceof Request r) {
                    Messages.unprotect("OSCORE request", f.state, input.length, () -> f.pipeline.unprotectRequest(r, f.serverDb));
                }
                return;
            }
            case 1: {
                Message m = Messages.parse(rest);
                if (m instanceof Response r) {
                    RequestIdentifiers ids = f.setupIds[pair].withoutNonceReuse();
                    Messages.unprotect("OSCORE response", f.state, input.length, () -> f.pipeline.unprotectResponse(r, ids));
                }
                return;
            }
            case 2: {
                Request r = sealedRequest(f.clients[pair].protector(), rest, observe, type);
                Messages.unprotect("sealed OSCORE request", f.state, input.length + 4,
                        () -> f.pipeline.unprotectRequest(r, f.serverDb));
                return;
            }
            default: {
                Request plain = Messages.get("sealed", 0x200);
                plain.setType(type);
                if (observe) {
                    plain.setObserve();
                }
                ProtectionPipeline.ProtectedRequest p = f.pipeline.protectRequest(plain, f.clients[pair].protector());
                RequestIdentifiers served = f.pipeline.unprotectRequest(p.wire(), f.serverDb).identifiers();
                Response r = sealedResponse(served, new byte[0], rest, observe, type);
                Messages.unprotect("sealed OSCORE response", f.state, input.length + 4,
                        () -> f.pipeline.unprotectResponse(r, p.identifiers()));
            }
        }
    }

    /** A request around {@code plaintext} sealed by {@code view}, as {@link ProtectionPipeline#protectRequest} frames one. */
    static Request sealedRequest(RequestProtector view, byte[] plaintext, boolean observe, Type type) throws Exception {
        return sealedRequest(view, plaintext, observe, type, s -> null);
    }

    /** As above, with an outer option the sealing asks for (a deterministic request's Request-Hash), or none. */
    static Request sealedRequest(RequestProtector view, byte[] plaintext, boolean observe, Type type,
                                 java.util.function.Function<RequestProtector.SealedRequest, org.eclipse.californium.core.coap.Option> outer)
            throws Exception {
        RequestProtector.SealedRequest s = view.seal(new byte[0], plaintext, observe);
        boolean fetch = observe || view.mode() == dev.coterie.oscore.ProtectionMode.DETERMINISTIC; // DET-04
        Request r = new Request(fetch ? Code.FETCH : Code.POST, type);
        r.setMID(0x300);
        r.setToken(new byte[] {0x53});
        if (observe) {
            r.getOptions().setObserve(0);
        }
        org.eclipse.californium.core.coap.Option extra = outer.apply(s);
        if (extra != null) {
            r.getOptions().addOption(extra);
        }
        r.getOptions().setOscore(s.optionValue());
        r.setPayload(s.payload());
        return r;
    }

    /** A response around {@code plaintext} sealed by the protector of the verified request {@code served}. */
    static Response sealedResponse(RequestIdentifiers served, byte[] classI, byte[] plaintext, boolean notification, Type type)
            throws Exception {
        ResponseProtector.SealedResponse s = served.responseProtector().seal(served, classI, plaintext, notification);
        Response r = new Response(notification ? ResponseCode.CONTENT : ResponseCode.CHANGED);
        r.setType(type == Type.CON ? Type.ACK : Type.NON);
        r.setMID(0x300);
        r.setToken(new byte[] {0x53});
        if (notification) {
            r.getOptions().setObserve(1);
        }
        r.getOptions().setOscore(s.optionValue());
        r.setPayload(s.payload());
        return r;
    }
}
