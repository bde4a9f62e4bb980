package ai.arches.workflows.tools;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import ai.arches.config.Cidr;

/**
 * Keeps the {@code http} tool away from the platform's own network: a URL is refused unless
 * every address its host resolves to is public, or inside one of the operator's allowed
 * networks ({@code workflows.http.allow}). Every address, not the first: a host answering both
 * a public and a private address would otherwise pass the check and be connected to the
 * private one. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that
 * IPv4 address; forms whose target cannot be known (IPv4-compatible, Teredo) are refused.
 *
 * <p>Immutable; safe for concurrent use. Refusal messages name the kind of address, never the
 * address itself, so a step's error does not map the internal network for whoever wrote it.
 */
final class SsrfGuard {
    /** The JDK's lookup, or a fake one in tests. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final List<Cidr> allow;
    private final Resolver resolver;

    SsrfGuard(List<Cidr> allow) {
        this(allow, InetAddress::getAllByName);
    }

    SsrfGuard(List<Cidr> allow, Resolver resolver) {
        this.allow = List.copyOf(allow);
        this.resolver = resolver;
    }

    /**
     * The addresses of the URL's host, all of them allowed; otherwise a {@link ToolException}
     * saying why not. Interruptible although the JDK's lookup is not: the lookup runs on its own
     * virtual thread and is abandoned on interrupt (it ends with the resolver's own timeout).
     */
    List<InetAddress> check(URI url) throws InterruptedException {
        String problem = urlProblem(url);
        if (problem != null) {
            throw new ToolException("url " + problem);
        }
        InetAddress[] addresses = resolve(host(url));
        if (addresses.length == 0) {
            throw new ToolException("the url's host has no address");
        }
        for (InetAddress a : addresses) {
            String why = refusal(a);
            if (why != null) {
                throw refused(why);
            }
        }
        return List.of(addresses);
    }

    /**
     * What can be known without DNS, for a saved workflow: the URL's shape, and the address when
     * the host is an IP literal. Null when nothing is wrong yet.
     */
    String staticProblem(URI url) {
        String problem = urlProblem(url);
        if (problem != null) {
            return problem;
        }
        InetAddress literal = literal(host(url));
        String why = literal == null ? null : refusal(literal);
        return why == null ? null : "is refused: its host is " + article(why) + " address";
    }

    /** Why {@code a} may not be reached, or null when it may: public, or allowed by the operator. */
    String refusal(InetAddress a) {
        for (Cidr c : allow) {
            if (c.contains(a)) {
                return null;
            }
        }
        return kind(a);
    }

    /** Scheme, user info, host and port; null when the URL is acceptable. */
    static String urlProblem(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!url.isAbsolute() || url.isOpaque() || !(scheme.equals("http") || scheme.equals("https"))) {
            return "must be an absolute http:// or https:// URL";
        }
        String authority = url.getRawAuthority();
        if (url.getRawUserInfo() != null || (authority != null && authority.indexOf('@') >= 0)) {
            return "must not contain user info (user:password@)";
        }
        if (url.getHost() == null || url.getHost().isEmpty()) {
            return "needs a host (international names in their xn-- form)";
        }
        if (url.getPort() == 0 || url.getPort() > 65_535) {
            return "must use a port from 1 to 65535";
        }
        return null;
    }

    /**
     * The kind of non-public address {@code a} is, or null when it is public. IPv4 ranges: RFC
     * 6890's special-purpose registry where a host may not be a destination, plus multicast.
     */
    static String kind(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 ? kind4(b, 0) : kind6(b);
    }

    private static String kind4(byte[] b, int at) {
        int a0 = b[at] & 0xff;
        int a1 = b[at + 1] & 0xff;
        int a2 = b[at + 2] & 0xff;
        int a3 = b[at + 3] & 0xff;
        if (a0 == 0) {
            return "unspecified (0.0.0.0/8)";
        }
        if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) {
            return "private";
        }
        if (a0 == 100 && (a1 & 0xc0) == 64) {
            return "shared carrier-grade NAT (100.64.0.0/10)";
        }
        if (a0 == 127) {
            return "loopback";
        }
        if (a0 == 169 && a1 == 254) {
            return a2 == 169 && a3 == 254 ? "cloud metadata" : "link-local";
        }
        if (a0 == 192 && a1 == 0 && a2 == 0) {
            return "IETF protocol (192.0.0.0/24)";
        }
        if (a0 == 198 && (a1 & 0xfe) == 18) {
            return "benchmarking (198.18.0.0/15)";
        }
        if (a0 >= 224 && a0 < 240) {
            return "multicast";
        }
        if (a0 >= 240) {
            return a0 == 255 && a1 == 255 && a2 == 255 && a3 == 255 ? "broadcast" : "reserved (240.0.0.0/4)";
        }
        return null;
    }

    private static String kind6(byte[] b) {
        if (zeros(b, 0, 12)) {
            // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d, which nothing routes any more.
            return zeros(b, 12, 15) && b[15] == 0 ? "unspecified" : zeros(b, 12, 15) && b[15] == 1 ? "loopback"
                    : "IPv4-compatible IPv6";
        }
        if (zeros(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return embedded(kind4(b, 12), "IPv4-mapped");
        }
        int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        int w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        if (w0 == 0x0064 && w1 == 0xff9b && zeros(b, 4, 12)) {
            return embedded(kind4(b, 12), "NAT64");
        }
        if (w0 == 0x0064 && w1 == 0xff9b && b[4] == 0 && b[5] == 1) {
            return "local-use NAT64 (64:ff9b:1::/48)";
        }
        if (w0 == 0x2002) {
            return embedded(kind4(b, 2), "6to4");
        }
        if (w0 == 0x2001 && w1 == 0) {
            return "Teredo (2001::/32)";
        }
        if (w0 == 0x0100 && zeros(b, 2, 8)) {
            return "discard-only (100::/64)";
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return "unique-local (fc00::/7)";
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return "link-local";
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
            return "site-local (fec0::/10)";
        }
        if ((b[0] & 0xff) == 0xff) {
            return "multicast";
        }
        return null;
    }

    private static String embedded(String kind4, String form) {
        return kind4 == null ? null : form + " " + kind4;
    }

    private static boolean zeros(byte[] b, int from, int to) {
        for (int k = from; k < to; k++) {
            if (b[k] != 0) {
                return false;
            }
        }
        return true;
    }

    private InetAddress[] resolve(String host) throws InterruptedException {
        InetAddress literal = literal(host);
        if (literal != null) {
            return new InetAddress[] {literal};
        }
        FutureTask<InetAddress[]> lookup = new FutureTask<>(() -> resolver.resolve(host));
        Thread.ofVirtual().name("http-tool-lookup").start(lookup);
        try {
            return lookup.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException) {
                throw new ToolException("unknown host");
            }
            throw new ToolException("could not resolve the host (" + e.getCause().getClass().getSimpleName() + ")",
                    e.getCause());
        }
    }

    /** The host as an IP address when it is one (IPv6 in brackets, as URIs write it); else null. */
    private static InetAddress literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            return InetAddress.ofLiteral(h);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String host(URI url) {
        return url.getHost();
    }

    private static ToolException refused(String why) {
        return new ToolException("refused: the url's host is " + article(why) + " address; the http tool reaches "
                + "public addresses only (workflows.http.allow admits others)");
    }

    private static String article(String kind) {
        return ("aeiouAEIOU".indexOf(kind.charAt(0)) >= 0 && !kind.startsWith("unique") ? "an " : "a ") + kind;
    }
}
