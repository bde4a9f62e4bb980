package ai.arches.common;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The address of the client that sent a request, resolved once per request by the http
 * package's {@code ClientAddresses} filter (through trusted proxies only) and kept in the request
 * context, where handlers and the access log read it; nobody else looks at forwarding headers.
 */
public record ClientAddress(InetAddress address) {

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
