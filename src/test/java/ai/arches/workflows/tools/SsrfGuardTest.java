package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import ai.arches.config.Cidr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SsrfGuardTest {
    private final SsrfGuard guard = new SsrfGuard(List.of());

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
            "169.254.169.254", "169.254.1.1", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
            "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.0.8", "198.18.0.1",
            "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:c0a8:101::1", "2001:0:1::1"})
    void non_public_addresses_are_refused(String ip) {
        assertThat(guard.refusal(InetAddress.ofLiteral(ip))).as(ip).isNotNull();
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        assertThatThrownBy(() -> guard.check(URI.create("http://" + host + ":8080/x")))
                .isInstanceOf(ToolException.class).hasMessageStartingWith("refused:");
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.216.34", "8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "100.63.0.1",
            "192.169.0.1", "169.253.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "64:ff9b::808:808"})
    void public_addresses_pass(String ip) throws Exception {
        assertThat(guard.refusal(InetAddress.ofLiteral(ip))).as(ip).isNull();
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        assertThat(guard.check(URI.create("https://" + host + "/"))).containsExactly(InetAddress.ofLiteral(ip));
    }

    @Test
    void ipv4_mapped_addresses_kept_in_ipv6_form_are_judged_by_their_ipv4_part() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 169;
        mapped[13] = (byte) 254;
        mapped[14] = (byte) 169;
        mapped[15] = (byte) 254;
        InetAddress a = Inet6Address.getByAddress(null, mapped, -1);
        assertThat(a).isInstanceOf(Inet6Address.class);
        assertThat(guard.refusal(a)).contains("IPv4-mapped").contains("metadata");
    }

    @Test
    void the_metadata_address_is_named_as_such() {
        assertThat(SsrfGuard.kind(InetAddress.ofLiteral("169.254.169.254"))).isEqualTo("cloud metadata");
    }

    @Test
    void an_allowlisted_network_is_reachable_and_only_it() throws Exception {
        SsrfGuard allowing = new SsrfGuard(List.of(Cidr.parse("127.0.0.1/32"), Cidr.parse("10.20.0.0/16")));
        assertThat(allowing.check(URI.create("http://127.0.0.1:9999/"))).hasSize(1);
        assertThat(allowing.check(URI.create("http://10.20.3.4/"))).hasSize(1);
        assertThatThrownBy(() -> allowing.check(URI.create("http://127.0.0.2/"))).hasMessageStartingWith("refused:");
        assertThatThrownBy(() -> allowing.check(URI.create("http://10.21.0.1/"))).hasMessageStartingWith("refused:");
    }

    @Test
    void a_host_name_resolving_to_loopback_is_refused() {
        assertThatThrownBy(() -> guard.check(URI.create("http://localhost:8080/")))
                .isInstanceOf(ToolException.class).hasMessageContaining("loopback");
    }

    @Test
    void one_private_address_among_public_ones_is_enough_to_refuse() {
        SsrfGuard g = new SsrfGuard(List.of(), host -> new InetAddress[] {
                InetAddress.ofLiteral("93.184.216.34"), InetAddress.ofLiteral("10.0.0.5")});
        assertThatThrownBy(() -> g.check(URI.create("https://rebind.example/"))).hasMessageContaining("private");
    }

    @Test
    void refusals_do_not_echo_the_address() {
        SsrfGuard g = new SsrfGuard(List.of(), host -> new InetAddress[] {InetAddress.ofLiteral("10.9.8.7")});
        assertThatThrownBy(() -> g.check(URI.create("https://intranet.example/")))
                .message().doesNotContain("10.9.8.7").doesNotContain("intranet");
    }

    @Test
    void unknown_hosts_fail_as_such() {
        SsrfGuard g = new SsrfGuard(List.of(), host -> {
            throw new UnknownHostException(host);
        });
        assertThatThrownBy(() -> g.check(URI.create("https://nowhere.example/"))).hasMessage("unknown host");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "mailto:a@example.com",
            "http://user:pw@example.com/", "http://user@example.com/", "http://example.com:0/", "/relative/path",
            "http:///nohost", "http://under_score.example/"})
    void bad_urls_are_refused_before_any_lookup(String url) {
        SsrfGuard g = new SsrfGuard(List.of(), host -> {
            throw new AssertionError("no lookup for " + url);
        });
        assertThatThrownBy(() -> g.check(URI.create(url))).isInstanceOf(ToolException.class)
                .hasMessageStartingWith("url ");
    }

    @Test
    @Timeout(10)
    void a_hanging_lookup_gives_way_to_an_interrupt() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch looking = new CountDownLatch(1);
        SsrfGuard g = new SsrfGuard(List.of(), host -> {
            looking.countDown();
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new UnknownHostException(host);
        });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                g.check(URI.create("https://slow.example/"));
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        assertThat(looking.await(5, TimeUnit.SECONDS)).isTrue();
        t.interrupt();
        assertThat(t.join(java.time.Duration.ofSeconds(5))).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        never.countDown();
    }
}
