package dev.coterie.fuzz;

import dev.coterie.keystore.ReplayWindow;
import dev.coterie.keystore.SenderSequence;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectedAnswerRequired;
import dev.coterie.oscore.ProtectionPipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/** What the message targets share: CoAP framing, the state snapshot, the size rule for what was accepted. */
final class Messages {
    private Messages() {
    }

    /** Parses a datagram as Californium would; null for what is not CoAP (Californium's rejection, not ours). */
    static Message parse(byte[] datagram) {
        try {
            return new UdpDataParser().parseMessage(datagram);
        } catch (RuntimeException notCoap) {
            return null;
        }
    }

    static byte[] serialize(Message m) {
        return new UdpDataSerializer().getByteArray(m);
    }

    static Request get(String path, int mid) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(mid & 0xffff);
        r.setToken(new byte[] {0x4a, (byte) mid});
        r.getOptions().setUriPath(path);
        return r;
    }

    static Response content(String payload, int mid) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.ACK);
        r.setMID(mid & 0xffff);
        r.setToken(new byte[] {0x4a, (byte) mid});
        r.setPayload(payload);
        return r;
    }

    /** The state a receiver keeps: replay windows and sender sequences, as text to compare. */
    static final class State {
        private final List<Supplier<String>> parts = new ArrayList<>();

        State window(String name, ReplayWindow w) {
            parts.add(() -> name + " window " + w.snapshot());
            return this;
        }

        State sequence(String name, SenderSequence s) {
            parts.add(() -> name + " sequence " + s.peek());
            return this;
        }

        String snapshot() {
            StringBuilder sb = new StringBuilder();
            for (Supplier<String> p : parts) {
                sb.append(p.get()).append('\n');
            }
            return sb.toString();
        }

        /** Rule 3: a rejection leaves every window and sequence as it was. */
        void unchangedSince(String before, String what) {
            String after = snapshot();
            if (!after.equals(before)) {
                throw new AssertionError("state changed by a rejected " + what + ":\nbefore\n" + before + "after\n" + after);
            }
        }
    }

    /** Allocation bound of one unprotect call: crypto and Californium objects, plus a few times the input. */
    static final long BASE_ALLOCATION = 512 << 10;
    static final long ALLOCATION_PER_BYTE = 16;

    /**
     * Runs one unprotect call under the three rules: it is accepted, answered with a protected
     * error ({@link ProtectedAnswerRequired}: it verified), or rejected with an
     * {@link OscoreException}, and nothing else escapes (Jazzer reports it); a rejection leaves
     * {@code state} as it was; allocation stays within {@link #BASE_ALLOCATION} plus
     * {@link #ALLOCATION_PER_BYTE} per input byte (a rejection over it is sent again, which must
     * give the same rejection, and counts only if over again; a call that loaded a class is not
     * judged: see {@link FuzzRules.Measure}); and
     * an accepted message is at most three times the input ({@link #acceptedWithinInput}).
     */
    static <M extends Message> void unprotect(String what, State state, int inputLength,
                                              FuzzRules.Call<ProtectionPipeline.Unprotected<M>> call) throws Exception {
        long bound = BASE_ALLOCATION + ALLOCATION_PER_BYTE * inputLength;
        String before = state.snapshot();
        FuzzRules.Measure m = new FuzzRules.Measure();
        ProtectionPipeline.Unprotected<M> u;
        try {
            u = call.run();
        } catch (OscoreException rejected) {
            state.unchangedSince(before, what);
            if (m.used() > bound) {
                m = new FuzzRules.Measure();
                try {
                    call.run();
                    throw new AssertionError("a rejected " + what + " was accepted when it came again");
                } catch (OscoreException again) {
                    overBound(m, bound, inputLength, "a rejected " + what);
                }
            }
            return;
        } catch (ProtectedAnswerRequired answered) {
            overBound(m, bound, inputLength, what + " answered with a protected error");
            return;
        }
        overBound(m, bound, inputLength, "an accepted " + what);
        acceptedWithinInput(u, inputLength);
    }

    private static void overBound(FuzzRules.Measure m, long bound, int inputLength, String what) {
        if (m.over(bound)) {
            throw new AssertionError(what + " allocated " + m.used() + " bytes for " + inputLength + " input bytes, more than "
                    + BASE_ALLOCATION + " + " + ALLOCATION_PER_BYTE + " x input = " + bound);
        }
    }

    /**
     * Rule 2 for an accepted message: its payload and options together are at most three times
     * the input. Not one time: Californium keeps string options (Uri-Path, Location-Path, ...) as
     * Java strings, so an inner option that is not UTF-8 comes out with U+FFFD, three bytes, for
     * each bad byte, as it does for a plain CoAP message.
     */
    static void acceptedWithinInput(ProtectionPipeline.Unprotected<? extends Message> u, int inputLength) {
        Message m = u.plain();
        int total = m.getPayloadSize();
        for (Option o : m.getOptions().asSortedList()) {
            total += o.getLength();
        }
        for (Option o : u.hopByHop()) {
            total += o.getLength();
        }
        FuzzRules.notLongerThanInput(total, 3 * inputLength, "an accepted message's payload and options (bound: 3 x input)");
    }
}
