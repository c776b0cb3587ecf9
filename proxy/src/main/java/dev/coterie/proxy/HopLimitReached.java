package dev.coterie.proxy;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Response;

/**
 * A 5.08 (Hop Limit Reached, RFC 8768) response. Californium 3.13's ResponseCode has no 5.08,
 * so this response is a 5.xx to Californium's stack (a server error, as 5.08 is) and writes the
 * raw code 5.08 wherever a code is serialized: on the wire, and as the inner code when a hop
 * layer protects it (the OSCORE pipeline takes the raw code).
 */
final class HopLimitReached extends Response {
    /** 5.08: class 5, detail 8. */
    static final int CODE = (5 << 5) | 8;

    HopLimitReached() {
        super(ResponseCode.SERVICE_UNAVAILABLE);
    }

    @Override
    public int getRawCode() {
        return CODE;
    }

    /** A response whose code Californium has no constant for, relayed with the code it came with. */
    static final class RawCode extends Response {
        private final int raw;

        RawCode(int raw, ResponseCode base) {
            super(base);
            this.raw = raw;
        }

        @Override
        public int getRawCode() {
            return raw;
        }
    }
}
