package ai.arches.config;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network such as {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address is a
 * network of one. Parsing takes literals only (never DNS), and an address with host bits set
 * under its prefix is rejected rather than silently widened, so a typo cannot trust more hosts
 * than the operator meant.
 */
public record Cidr(byte[] network, int prefix) {

    public Cidr {
        network = network.clone();
    }

    public static Cidr parse(String text) {
        String s = text.strip();
        int slash = s.indexOf('/');
        InetAddress addr;
        try {
            addr = InetAddress.ofLiteral(slash < 0 ? s : s.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not an IP address or CIDR network");
        }
        byte[] bytes = addr.getAddress();
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("'" + s + "' needs a prefix length between 0 and " + max);
            }
        }
        if (!Arrays.equals(bytes, mask(bytes, prefix))) {
            throw new IllegalArgumentException("'" + s + "' has bits set after its /" + prefix + " prefix");
        }
        return new Cidr(bytes, prefix);
    }

    @Override
    public byte[] network() {
        return network.clone();
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && Arrays.equals(mask(a, prefix), network);
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.clamp(prefix - i * 8L, 0, 8);
            out[i] = (byte) (out[i] & (0xff << (8 - keep)));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

}
