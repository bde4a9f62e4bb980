package ai.arches.http;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import ai.arches.common.ClientAddress;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Resolves each request's {@link ClientAddress} once and registers it in the request context.
 *
 * <p>Forwarding headers are only as honest as whoever wrote their last entry, so they are read
 * only when the TCP peer is a trusted proxy; from anyone else they are ignored and the peer is
 * the client. Behind trusted proxies the chain is walked from the right (the entry the nearest
 * proxy appended) past trusted hops, and the first untrusted address is the client. An entry that
 * is not an address ({@code unknown}, an obfuscated {@code _identifier}, garbage) stops the walk:
 * whatever lies left of it came from a party nobody vouches for, so the last trusted hop stands
 * in for the client. When a request carries both {@code Forwarded} and {@code X-Forwarded-For}
 * and they name different clients, one of them was passed through from the client untouched, and
 * there is no telling which: the nearest proxy is used, so such requests share one bucket
 * instead of choosing their own.
 */
public final class ClientAddresses implements Filter {
    private static final HeaderName X_FORWARDED_FOR = HeaderNames.create("X-Forwarded-For");

    private final Predicate<InetAddress> trusted;
    private final boolean anyTrusted;

    /** {@code anyTrusted} false skips header parsing altogether (the default configuration). */
    public ClientAddresses(Predicate<InetAddress> trusted, boolean anyTrusted) {
        this.trusted = trusted;
        this.anyTrusted = anyTrusted;
    }

    /** The request's resolved address; the filter is installed on every route, so it is always there. */
    public static ClientAddress of(ServerRequest req) {
        return req.context().get(ClientAddress.class)
                .orElseThrow(() -> new IllegalStateException("ClientAddresses filter is not installed"));
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        InetAddress peer = ((InetSocketAddress) req.remotePeer().address()).getAddress();
        InetAddress client = peer;
        if (anyTrusted && trusted.test(peer)) {
            client = resolve(peer,
                    join(req.headers().all(HeaderNames.FORWARDED, List::of)),
                    join(req.headers().all(X_FORWARDED_FOR, List::of)));
        }
        req.context().register(new ClientAddress(client));
        chain.proceed();
    }

    /** The client behind a trusted {@code peer}, from the two headers (null when absent). */
    InetAddress resolve(InetAddress peer, String forwarded, String xForwardedFor) {
        Optional<InetAddress> viaForwarded = forwarded == null ? Optional.empty()
                : Optional.of(walk(peer, forwardedFor(forwarded)));
        Optional<InetAddress> viaXff = xForwardedFor == null ? Optional.empty()
                : Optional.of(walk(peer, xForwardedFor(xForwardedFor)));
        if (viaForwarded.isPresent() && viaXff.isPresent() && !viaForwarded.get().equals(viaXff.get())) {
            return peer;
        }
        return viaForwarded.or(() -> viaXff).orElse(peer);
    }

    private InetAddress walk(InetAddress peer, List<Optional<InetAddress>> chain) {
        InetAddress current = peer;
        for (int i = chain.size() - 1; i >= 0; i--) {
            Optional<InetAddress> hop = chain.get(i);
            if (hop.isEmpty()) {
                return current;
            }
            current = hop.get();
            if (!trusted.test(current)) {
                return current;
            }
        }
        return current;
    }

    /**
     * The {@code for=} node of each element of an RFC 7239 {@code Forwarded} value, in order;
     * empty for an element with no {@code for}, or whose node is {@code unknown}, obfuscated or
     * malformed.
     */
    static List<Optional<InetAddress>> forwardedFor(String header) {
        List<Optional<InetAddress>> out = new ArrayList<>();
        for (String element : split(header, ',')) {
            Optional<InetAddress> node = Optional.empty();
            for (String pair : split(element, ';')) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("for")) {
                    node = node(unquote(pair.substring(eq + 1).strip()));
                }
            }
            out.add(node);
        }
        return out;
    }

    /** Each entry of an {@code X-Forwarded-For} value, in order; empty where it is no address. */
    static List<Optional<InetAddress>> xForwardedFor(String header) {
        List<Optional<InetAddress>> out = new ArrayList<>();
        for (String entry : header.split(",", -1)) {
            out.add(node(entry.strip()));
        }
        return out;
    }

    /** {@code 192.0.2.1}, {@code 192.0.2.1:80}, {@code [2001:db8::1]}, {@code [2001:db8::1]:80}, {@code 2001:db8::1}. */
    static Optional<InetAddress> node(String s) {
        String host = s;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || (close + 1 < s.length() && s.charAt(close + 1) != ':')) {
                return Optional.empty();
            }
            host = s.substring(1, close);
            if (host.indexOf(':') < 0) {
                return Optional.empty();
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            if (host.indexOf('.') < 0) {
                return Optional.empty();
            }
        }
        int zone = host.indexOf('%');
        if (zone >= 0) {
            host = host.substring(0, zone);
        }
        if (host.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.ofLiteral(host));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Splits on {@code sep} outside quoted strings (RFC 7230 quoted-string, with backslash escapes). */
    private static List<String> split(String s, char sep) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted && c == '\\' && i + 1 < s.length()) {
                cur.append(c).append(s.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                cur.append(c);
            } else if (c == sep && !quoted) {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts;
    }

    private static String unquote(String v) {
        if (v.length() < 2 || v.charAt(0) != '"' || v.charAt(v.length() - 1) != '"') {
            return v;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length() - 1) {
                c = v.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String join(List<String> lines) {
        return lines.isEmpty() ? null : String.join(",", lines);
    }
}
