package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;

/**
 * The client's (and the proxy's) answer to Feedback-Divider (OMN-09) is bounded: in the
 * unprotected variant anyone who can reach the group can put the option into a notification,
 * so each such datagram must not become a request. One answer pending at a time, and none for
 * the hold-off after one left.
 */
class FeedbackAnswerHoldOffTest {
    private static final int FD = 18;

    private static Request registration() {
        Request r = Request.newGet();
        r.getOptions().addUriPath("alarm").setObserve(0);
        r.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", 5683)));
        return r;
    }

    /** sent() counts once send returned, after the request reached the queue: wait for it, bounded. */
    private static void awaitSent(FeedbackAnswer a, long n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.sent() < n && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertEquals(n, a.sent());
    }

    @Test
    void OMN_09_aBurstOfFeedbackDividersGivesOneAnswerPerHoldOff() throws Exception {
        BlockingQueue<Request> out = new LinkedBlockingQueue<>();
        FeedbackAnswer held = new FeedbackAnswer(registration(), FD, 0, 60_000, new SplittableRandom(1), out::add);
        try {
            held.accept(0);
            Request first = out.poll(10, TimeUnit.SECONDS);
            assertNotNull(first, "the first Feedback-Divider is answered");
            assertEquals(CoAP.Type.NON, first.getType());
            assertEquals(Integer.valueOf(0), first.getOptions().getObserve());
            Option fd = first.getOptions().getOthers().stream().filter(o -> o.getNumber() == FD).findFirst().orElseThrow();
            assertArrayEquals(new byte[0], fd.getValue());
            awaitSent(held, 1);
            // a burst within the hold-off: ignored at once, nothing scheduled
            for (int i = 0; i < 100; i++) {
                held.accept(0);
            }
            assertEquals(100, held.ignored());
            assertEquals(1, held.sent());
        } finally {
            held.close();
        }
        assertEquals(0, out.size(), "nothing but the first answer left");

        // control: without a hold-off, a second count after the first answer left is answered again
        FeedbackAnswer free = new FeedbackAnswer(registration(), FD, 0, 0, new SplittableRandom(1), out::add);
        try {
            free.accept(0);
            assertNotNull(out.poll(10, TimeUnit.SECONDS));
            awaitSent(free, 1);
            free.accept(0);
            assertNotNull(out.poll(10, TimeUnit.SECONDS), "the second count is answered too");
            assertEquals(0, free.ignored());
        } finally {
            free.close();
        }
    }

    @Test
    void OMN_09_oneAnswerPendingAtATime() throws Exception {
        BlockingQueue<Request> out = new LinkedBlockingQueue<>();
        // a long Leisure: the first answer stays pending
        FeedbackAnswer a = new FeedbackAnswer(registration(), FD, 3_600_000, 0, new SplittableRandom(1), out::add);
        try {
            a.accept(0);
            a.accept(0);
            a.accept(0);
            assertEquals(2, a.ignored(), "while one answer waits out its Leisure, further counts are ignored");
        } finally {
            a.close();
        }
    }
}
