package ai.arches.http;

import java.net.Inet6Address;
import java.net.InetAddress;

import io.helidon.webserver.http.ServerRequest;

/**
 * The address of the client that sent a request, resolved once per request by
 * {@link ClientAddresses} (through trusted proxies only) and kept in the request context.
 * Handlers read it here and never look at forwarding headers themselves.
 */
public record ClientAddress(InetAddress address) {

    /** The resolved address; the filter is installed on every route, so it is always there. */
    public static ClientAddress of(ServerRequest req) {
        return req.context().get(ClientAddress.class)
                .orElseThrow(() -> new IllegalStateException("ClientAddresses filter is not installed"));
    }

    /**
     * What per-address limits count under: the IPv4 address, or the /64 network of an IPv6 one,
     * because a single IPv6 subscriber is usually handed a whole /64 and could otherwise take a
     * fresh address (and a fresh budget) for every attempt.
     */
    public String limitKey() {
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                s.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            }
            return s.append(":/64").toString();
        }
        return address.getHostAddress();
    }
}
