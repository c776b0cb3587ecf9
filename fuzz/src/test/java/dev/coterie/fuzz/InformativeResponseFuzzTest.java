package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.util.Arrays;
import org.eclipse.californium.core.coap.option.OptionRegistry;

/**
 * The payload of an informative response (observe-multicast-notifications 4.2), which a client
 * and the proxy parse from any server they registered with: {@link InformativeResponse#decode},
 * then its ph_req and last_notif through {@link TransportIndependent}; and the same bytes as a
 * tp_info alone ({@link TpInfo#decode}, the value of Listen-To-Multicast-Responses).
 *
 * <p>Rules: a value or {@link IllegalArgumentException}, nothing else; at most 64 KiB plus 256
 * bytes per input byte allocated; an accepted map re-encodes to bytes that decode and re-encode
 * to themselves (unknown keys are dropped once, then the encoding is a fixed point); a ph_req
 * parses as a request and last_notif as a response, or are refused; an accepted tp_info
 * re-encodes to one equal to it.
 */
class InformativeResponseFuzzTest {
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();

    @FuzzTest
    void informativeResponse(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        InformativeResponse ir = FuzzRules.bounded(64 << 10, 256, input.length, "decoding an informative response", () -> {
            try {
                return InformativeResponse.decode(input);
            } catch (IllegalArgumentException rejected) {
                return null;
            }
        });
        if (ir != null) {
            byte[] once = ir.encode();
            byte[] twice = InformativeResponse.decode(once).encode();
            FuzzRules.check(Arrays.equals(once, twice), "an informative response is not a fixed point of its encoding");
            if (ir.phReq() != null) {
                FuzzRules.bounded(64 << 10, 256, input.length, "parsing ph_req", () -> {
                    try {
                        return TransportIndependent.request(ir.phReq(), REGISTRY, "ph_req");
                    } catch (IllegalArgumentException rejected) {
                        return null;
                    }
                });
            }
            if (ir.lastNotif() != null) {
                FuzzRules.bounded(64 << 10, 256, input.length, "parsing last_notif", () -> {
                    try {
                        return TransportIndependent.response(ir.lastNotif(), REGISTRY, "last_notif");
                    } catch (IllegalArgumentException rejected) {
                        return null;
                    }
                });
            }
        }
        TpInfo tp = FuzzRules.bounded(16 << 10, 256, input.length, "decoding a tp_info", () -> {
            try {
                return TpInfo.decode(input, "tp_info");
            } catch (IllegalArgumentException rejected) {
                return null;
            }
        });
        if (tp != null) {
            FuzzRules.check(TpInfo.decode(tp.encode(), "re-encoded").equals(tp), "a tp_info does not survive its own encoding");
        }
    }
}
