package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import ai.arches.common.ClientAddress;
import ai.arches.config.Cidr;

import org.junit.jupiter.api.Test;

/** Forwarding headers: parsing (RFC 7239 and X-Forwarded-For) and the walk through trusted hops. */
class ClientAddressesTest {
    private static final List<Cidr> PROXIES = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"));
    private final ClientAddresses filter = new ClientAddresses(a -> PROXIES.stream().anyMatch(c -> c.contains(a)), true);
    private static final InetAddress PROXY = ip("10.0.0.2");

    private static InetAddress ip(String s) {
        return InetAddress.ofLiteral(s);
    }

    @Test
    void forwarded_for_values_are_read_quoted_or_bare_with_ipv6_brackets_and_ports() {
        assertThat(ClientAddresses.forwardedFor(
                "for=192.0.2.60;proto=http;by=203.0.113.43, For=\"[2001:db8:cafe::17]:4711\", for=\"198.51.100.3:8080\""))
                .containsExactly(Optional.of(ip("192.0.2.60")), Optional.of(ip("2001:db8:cafe::17")),
                        Optional.of(ip("198.51.100.3")));
        assertThat(ClientAddresses.forwardedFor("proto=https;for=\"[::1]\""))
                .containsExactly(Optional.of(ip("::1")));
    }

    @Test
    void obfuscated_unknown_and_malformed_nodes_are_not_addresses() {
        assertThat(ClientAddresses.forwardedFor("for=_hidden, for=unknown, for=\"_SEVEN:_port\", for=\"[2001:db8::1\", by=10.0.0.1"))
                .containsExactly(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        assertThat(ClientAddresses.forwardedFor("for=\"198.51.100.1:_obf\"")).containsExactly(Optional.of(ip("198.51.100.1")));
        assertThat(ClientAddresses.node("example.com")).isEmpty();
        assertThat(ClientAddresses.node("")).isEmpty();
    }

    @Test
    void a_comma_inside_a_quoted_value_does_not_split_elements() {
        assertThat(ClientAddresses.forwardedFor("for=192.0.2.1;host=\"a,b\", for=192.0.2.2"))
                .containsExactly(Optional.of(ip("192.0.2.1")), Optional.of(ip("192.0.2.2")));
    }

    @Test
    void x_forwarded_for_entries_may_carry_ports_and_brackets() {
        assertThat(ClientAddresses.xForwardedFor(" 203.0.113.5 , 198.51.100.7:443,[2001:db8::5]:80, 2001:db8::6, junk"))
                .containsExactly(Optional.of(ip("203.0.113.5")), Optional.of(ip("198.51.100.7")),
                        Optional.of(ip("2001:db8::5")), Optional.of(ip("2001:db8::6")), Optional.empty());
    }

    @Test
    void the_walk_from_the_right_skips_trusted_hops_and_stops_at_the_first_untrusted_address() {
        // The left entry was sent by the client itself and is not believed.
        assertThat(filter.resolve(PROXY, null, "1.1.1.1, 203.0.113.5, 10.1.1.1, fd00::7"))
                .isEqualTo(ip("203.0.113.5"));
        assertThat(filter.resolve(PROXY, "for=1.1.1.1, for=203.0.113.5;by=10.0.0.9, for=\"[fd00::3]\"", null))
                .isEqualTo(ip("203.0.113.5"));
        assertThat(filter.resolve(PROXY, null, null)).isEqualTo(PROXY);
        assertThat(filter.resolve(PROXY, null, "10.3.3.3")).isEqualTo(ip("10.3.3.3"));
    }

    @Test
    void an_unreadable_hop_stops_the_walk_at_the_last_trusted_proxy() {
        assertThat(filter.resolve(PROXY, "for=203.0.113.9, for=_hidden", null)).isEqualTo(PROXY);
        assertThat(filter.resolve(PROXY, null, "203.0.113.9, unknown, 10.4.4.4")).isEqualTo(ip("10.4.4.4"));
    }

    @Test
    void headers_that_disagree_fall_back_to_the_nearest_proxy() {
        assertThat(filter.resolve(PROXY, "for=198.51.100.1", "203.0.113.5")).isEqualTo(PROXY);
        assertThat(filter.resolve(PROXY, "for=203.0.113.5", "203.0.113.5")).isEqualTo(ip("203.0.113.5"));
    }

    @Test
    void ipv6_clients_are_limited_per_64_network() {
        assertThat(new ClientAddress(ip("2001:db8:1:2:aaaa::1")).limitKey())
                .isEqualTo(new ClientAddress(ip("2001:db8:1:2:ffff::9")).limitKey())
                .isEqualTo("2001:db8:1:2::/64");
        assertThat(new ClientAddress(ip("203.0.113.5")).limitKey()).isEqualTo("203.0.113.5");
    }
}
