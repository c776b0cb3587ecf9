package dev.coterie.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * An address of the configuration that the proxy could not bind (in use, not local, not
 * permitted): the message names the field and the address, in one line, e.g.
 * {@code cannot listen on 127.0.0.1:5683 (listen[0]): Address already in use}.
 */
public final class ListenFailure extends IOException {
    private final String field;
    private final InetSocketAddress address;

    ListenFailure(String field, InetSocketAddress address, IOException cause) {
        super("cannot listen on " + hostPort(address) + " (" + field + "): " + reason(cause), cause);
        this.field = field;
        this.address = address;
    }

    public String field() {
        return field;
    }

    public InetSocketAddress address() {
        return address;
    }

    static String hostPort(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
