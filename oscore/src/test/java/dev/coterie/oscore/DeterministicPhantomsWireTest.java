package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetSocketAddress;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.TcpEndpointContext;
import org.junit.jupiter.api.Test;

/**
 * OMN-13 (observe-multicast-notifications App. D): a deterministic phantom is recognised by its
 * transport-independent bytes (code, options, payload), taken from the datagram or the RFC 8323
 * frame it arrived in. The framing comes from the endpoint context, not from the first byte:
 * a TCP frame with Len 4..7 begins with the bits of a UDP version-1 header.
 */
class DeterministicPhantomsWireTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 5683);
    /** GET, Uri-Path "abcd": code 0x01, option B4 'a' 'b' 'c' 'd' */
    private static final byte[] TI = {0x01, (byte) 0xB4, 'a', 'b', 'c', 'd'};

    private static Request received(byte[] bytes, boolean tcp) {
        Request r = new Request(Code.GET);
        r.setBytes(bytes);
        r.setSourceContext(tcp ? new TcpEndpointContext(PEER, "c1", 0L) : new AddressEndpointContext(PEER));
        return r;
    }

    @Test
    void OMN_13_tcpFrameWithLen4to7_isReadAsAFrameNotADatagram() {
        // Len 5 (the 5 bytes after the token), TKL 2: first byte 0x52, which (b & 0xc0) == 0x40 also matches
        byte[] frame = {0x52, 0x01, 0x7a, 0x7b, (byte) 0xB4, 'a', 'b', 'c', 'd'};
        assertArrayEquals(TI, DeterministicPhantoms.wireBytes(received(frame, true)));
        // one byte altered: not the phantom's bytes
        byte[] altered = frame.clone();
        altered[8] = 'e';
        assertFalse(Arrays.equals(TI, DeterministicPhantoms.wireBytes(received(altered, true))));
    }

    @Test
    void OMN_13_tcpFrameWithExtendedLength_andAUdpDatagram_giveTheSameBytes() {
        byte[] payload = new byte[20];
        Arrays.fill(payload, (byte) 'p');
        byte[] ti = new byte[TI.length + 1 + payload.length];
        System.arraycopy(TI, 0, ti, 0, TI.length);
        ti[TI.length] = (byte) 0xFF;
        System.arraycopy(payload, 0, ti, TI.length + 1, payload.length);
        int after = ti.length - 1; // options, marker, payload: 26 bytes, Len 13 with one extended byte (26 - 13)
        byte[] frame = new byte[2 + 1 + 2 + after];
        frame[0] = (byte) (13 << 4 | 2);
        frame[1] = (byte) (after - 13);
        frame[2] = 0x01;
        frame[3] = 0x7a;
        frame[4] = 0x7b;
        System.arraycopy(ti, 1, frame, 5, after);
        assertArrayEquals(ti, DeterministicPhantoms.wireBytes(received(frame, true)));
        // the same request as a UDP datagram (CON, TKL 2, MID 0x1234)
        byte[] datagram = new byte[4 + 2 + after];
        datagram[0] = 0x42;
        datagram[1] = 0x01;
        datagram[2] = 0x12;
        datagram[3] = 0x34;
        datagram[4] = 0x7a;
        datagram[5] = 0x7b;
        System.arraycopy(ti, 1, datagram, 6, after);
        assertArrayEquals(ti, DeterministicPhantoms.wireBytes(received(datagram, false)));
    }
}
