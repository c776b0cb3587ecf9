package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.oscore.Plaintext;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import java.util.Arrays;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

/**
 * A whole protected message through unprotect in the Group OSCORE views ({@link GroupFixture}):
 * group mode, pairwise mode, deterministic requests (and their responses), against the server's
 * {@link dev.coterie.grouposcore.GroupContextDb} and the client's request identifiers.
 *
 * <p>The first input byte chooses: bits 0-1 what the rest is, as in {@link OscoreUnprotectFuzzTest}
 * (datagram to the server, datagram answering the setup request, plaintext sealed into a request,
 * plaintext sealed into a response to a fresh request); bits 2-3 the view (0 group, 1 pairwise,
 * 2 and 3 deterministic); bit 4 an Observe request / a notification; bit 5 NON instead of CON.
 * Rules: {@link Messages#unprotect}.
 */
class GroupUnprotectFuzzTest {
    private static final class Holder {
        static final GroupFixture F;

        static {
            try {
                F = new GroupFixture();
            } catch (Exception e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    @FuzzTest
    void groupMessage(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        if (input.length < 1) {
            return;
        }
        GroupFixture f = Holder.F;
        int sel = input[0] & 0xff;
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        int view = Math.min((sel >> 2) & 3, 2);
        String name = GroupFixture.VIEWS[view];
        boolean observe = (sel & 0x10) != 0;
        Type type = (sel & 0x20) != 0 ? Type.NON : Type.CON;
        switch (sel & 3) {
            case 0: {
                Message m = Messages.parse(rest);
                if (m instanceof Request r) {
                    Messages.unprotect("group request", f.state, input.length, () -> f.pipeline.unprotectRequest(r, f.serverDb));
                }
                return;
            }
            case 1: {
                Message m = Messages.parse(rest);
                if (m instanceof Response r) {
                    RequestIdentifiers ids = f.setupIds[view].withoutNonceReuse();
                    Messages.unprotect(name + " response", f.state, input.length, () -> f.pipeline.unprotectResponse(r, ids));
                }
                return;
            }
            case 2: {
                Request r = sealedRequest(f, f.views[view], rest, observe, type);
                Messages.unprotect("sealed " + name + " request", f.state, input.length + 48,
                        () -> f.pipeline.unprotectRequest(r, f.serverDb));
                return;
            }
            default: {
                Request plain = Messages.get("sealed", 0x200);
                plain.setType(type);
                if (observe) {
                    plain.setObserve();
                }
                ProtectionPipeline.ProtectedRequest p = f.pipeline.protectRequest(plain, f.views[view]);
                RequestIdentifiers served = f.pipeline.unprotectRequest(p.wire(), f.serverDb).identifiers();
                byte[] classI = new byte[0];
                if (served.requestHash() != null) {
                    // class I in the response's AAD, elided on the wire (cacheable-oscore 3.2), as protectResponse does
                    classI = Plaintext.encodeOptions(List.of(requestHash(f, served.requestHash())));
                }
                Response r = OscoreUnprotectFuzzTest.sealedResponse(served, classI, rest, observe, type);
                Messages.unprotect("sealed " + name + " response", f.state, input.length + 4,
                        () -> f.pipeline.unprotectResponse(r, p.identifiers()));
            }
        }
    }

    private static Option requestHash(GroupFixture f, byte[] hash) {
        int number = f.pipeline.classifier().requestHashNumber();
        return new Option(f.pipeline.extensions().californiumRegistry().getDefinitionByNumber(number), hash);
    }

    /** A request around {@code plaintext} sealed by {@code view}; a deterministic one is a FETCH with its Request-Hash. */
    private static Request sealedRequest(GroupFixture f, RequestProtector view, byte[] plaintext, boolean observe, Type type)
            throws Exception {
        return OscoreUnprotectFuzzTest.sealedRequest(view, plaintext, observe, type,
                s -> s.requestHash() == null ? null : requestHash(f, s.requestHash()));
    }
}
