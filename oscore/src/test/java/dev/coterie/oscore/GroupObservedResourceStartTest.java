package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/**
 * A group observation protected with Group OSCORE starts only when both the protected phantom
 * and the protected first notification exist (OMN-10): a start whose protection fails leaves
 * the resource exactly as it was, and the next start is the control.
 */
class GroupObservedResourceStartTest {
    private static final byte[] KID = {(byte) 0xa1};
    private static final byte[] GID = {(byte) 0xb1, (byte) 0xf0, 0x5c};

    /** A server's protection whose context closes between the phantom and the first notification, once. */
    private static final class ClosingContext implements GroupObservationSecurity {
        private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        volatile boolean closed;
        volatile boolean closeAfterPhantom = true;
        private int piv;

        @Override
        public ProtectionPipeline pipeline() {
            return pipeline;
        }

        @Override
        public Phantom protectPhantom(Request plain) throws OscoreException {
            if (closed) {
                throw new OscoreException.ProtectionRefused("closed");
            }
            byte[] p = {(byte) ++piv};
            Request wire = new Request(CoAP.Code.FETCH, CoAP.Type.NON);
            wire.getOptions().setOscore(new OscoreOptionValue(p, GID, KID, true).encode());
            wire.setPayload(new byte[] {1, 2, 3});
            ResponseProtector protector = (request, classI, plaintext, notification) -> {
                if (closed) {
                    throw new OscoreException.ProtectionRefused("the context is closed");
                }
                return new ResponseProtector.SealedResponse(new OscoreOptionValue(new byte[] {(byte) (100 + piv)}, null, KID,
                        true).encode(), plaintext, ProtectionMode.GROUP, "g", "test");
            };
            RequestIdentifiers binding = RequestIdentifiers.builder().mode(ProtectionMode.GROUP).contextName("g").kid(KID)
                    .partialIv(p).kidContext(GID).observe(true).responseProtector(protector).build();
            if (closeAfterPhantom) {
                closed = true; // the phantom exists, the first notification cannot be protected any more
            }
            return new Phantom(wire, plain, binding);
        }

        @Override
        public Phantom verifyPhantom(Request rebuilt, OscorePeer responder) {
            throw new UnsupportedOperationException("a server's protection");
        }
    }

    private static final class Alarm extends GroupObservedResource {
        Alarm() {
            super("alarm", new InetSocketAddress("224.0.1.187", 5683), InformativeResponse.DEFAULT_CONTENT_FORMAT);
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.setPayload("ringing");
            return r;
        }
    }

    private static Request registration() {
        Request r = Request.newGet();
        r.getOptions().setUriPath("alarm").setObserve(0);
        return r;
    }

    @Test
    void OMN_10_aStartWhoseFirstNotificationCannotBeProtectedChangesNothing() throws Exception {
        ClosingContext sec = new ClosingContext();
        Alarm alarm = new Alarm();
        alarm.protectedBy(sec);
        try {
            int observeBefore = alarm.observeNumber();
            synchronized (alarm) {
                assertThrows(OscoreException.ProtectionRefused.class, () -> alarm.start(registration()));
            }
            assertEquals(observeBefore, alarm.observeNumber(), "the Observe number is as it was");
            assertNull(alarm.protectedPhantom(), "no protected phantom");
            assertNull(alarm.token(), "no Token: no group observation runs");
            assertEquals(0, alarm.observers());
            assertEquals(0, alarm.multicastSent());

            // control: the context works again (a new one), the next start succeeds and keeps this phantom
            sec.closed = false;
            sec.closeAfterPhantom = false;
            synchronized (alarm) {
                alarm.start(registration());
            }
            Request wire = alarm.protectedPhantom();
            assertNotNull(wire);
            assertArrayEquals(new byte[] {2}, OscoreOptionValue.decode(wire.getOptions().getOscore(), true).partialIv(),
                    "the second phantom");
            assertNotNull(alarm.token());
        } finally {
            alarm.close();
        }
    }
}
