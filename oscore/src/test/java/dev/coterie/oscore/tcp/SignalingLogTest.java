package dev.coterie.oscore.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Peer data that {@link SignalingHandler} logs (a Release's Alternative-Address) cannot forge log lines. */
class SignalingLogTest {
    @Test
    void TCP_06_anAlternativeAddressIsLoggedWithNonPrintablesEscaped() {
        byte[] value = "x127.0.0.1:5684\r\nINFO forged\\\u00ff".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("127.0.0.1:5684\\x0d\\x0aINFO forged\\x5c\\xff", SignalingHandler.printable(value, 1, value.length - 1));
        // positive control: a plain address is logged as it is
        byte[] plain = "coaps+tcp://[2001:db8::1]:5684".getBytes(StandardCharsets.US_ASCII);
        assertEquals("coaps+tcp://[2001:db8::1]:5684", SignalingHandler.printable(plain, 0, plain.length));
    }
}
