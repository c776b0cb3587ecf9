package dev.coterie.grouposcore;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The UDP sockets of this network namespace, from /proc/self/net/udp and udp6 (every process's,
 * not only this one's). The kernel prints each local address as 32-bit words in host byte order.
 */
final class ProcNetUdp {
    private ProcNetUdp() {
    }

    /**
     * How many UDP sockets are bound to exactly {@code a} (an IPv4 address also as IPv4-mapped
     * IPv6, a wildcard as either wildcard); -1 if unreadable.
     */
    static int boundTo(InetSocketAddress a) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/self/net/udp"), StandardCharsets.US_ASCII));
            Path udp6 = Path.of("/proc/self/net/udp6");
            if (Files.exists(udp6)) {
                lines.addAll(Files.readAllLines(udp6, StandardCharsets.US_ASCII));
            }
            return count(lines, a, ByteOrder.nativeOrder());
        } catch (IOException | SecurityException e) {
            return -1;
        }
    }

    static int count(List<String> lines, InetSocketAddress a, ByteOrder order) {
        List<String> forms = new ArrayList<>();
        InetAddress addr = a.getAddress();
        String port = String.format(Locale.ROOT, ":%04X", a.getPort());
        if (addr.isAnyLocalAddress()) {
            // 0.0.0.0 and :: overlap: a datagram to the port may go to either
            forms.add("00000000" + port);
            forms.add("0".repeat(32) + port);
        } else if (addr instanceof Inet4Address) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(addr.getAddress(), 0, mapped, 12, 4);
            forms.add(hex(addr.getAddress(), order) + port);
            forms.add(hex(mapped, order) + port);
        } else {
            forms.add(hex(addr.getAddress(), order) + port);
        }
        int n = 0;
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length > 1 && f[0].endsWith(":") && forms.contains(f[1])) {
                n++;
            }
        }
        return n;
    }

    private static String hex(byte[] address, ByteOrder order) {
        ByteBuffer b = ByteBuffer.wrap(address).order(order);
        StringBuilder s = new StringBuilder();
        while (b.hasRemaining()) {
            s.append(String.format(Locale.ROOT, "%08X", b.getInt()));
        }
        return s.toString();
    }
}
