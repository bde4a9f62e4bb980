package ai.arches.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    @Test
    void defaults_mirror_the_guides_pool_settings() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertThat(c.server().port()).isEqualTo(8080);
        assertThat(c.server().maxBody()).isEqualTo(1024 * 1024);
        assertThat(c.database().pool().maxConnections()).isEqualTo(100);
        assertThat(c.database().pool().minConnections()).isEqualTo(10);
        assertThat(c.database().pool().maxLifetime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.database().pool().idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.database().pool().connectionTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.redis().enabled()).isTrue();
    }

    @Test
    void environment_variables_override_every_key() {
        ArchesConfig c = ConfigLoader.load(Map.of(
                "ARCHES_SERVER_PORT", "9191",
                "ARCHES_DATABASE_POOL_MAX_CONNECTIONS", "42",
                "ARCHES_DATABASE_USER", "someone",
                "ARCHES_REDIS_URL", "",
                "ARCHES_SERVER_MAX_BODY", "512KiB",
                "PATH", "/usr/bin"), Map.of());
        assertThat(c.server().port()).isEqualTo(9191);
        assertThat(c.database().pool().maxConnections()).isEqualTo(42);
        assertThat(c.database().user()).isEqualTo("someone");
        assertThat(c.redis().enabled()).isFalse();
        assertThat(c.server().maxBody()).isEqualTo(512 * 1024);
    }

    @Test
    void postgres_urls_become_jdbc_urls() {
        ArchesConfig c = ConfigLoader.load(Map.of("ARCHES_DATABASE_URL", "postgres://u:p@db.example:6543/arches?sslmode=require"),
                Map.of());
        assertThat(c.database().url()).isEqualTo("jdbc:postgresql://db.example:6543/arches?user=u&password=p&sslmode=require");
    }

    @Test
    void replicas_are_a_list_of_urls_and_a_jdbc_host_list_stays_whole() {
        assertThat(ConfigLoader.load(Map.of(), Map.of()).database().replicas()).isEmpty();
        ArchesConfig c = ConfigLoader.load(Map.of("ARCHES_DATABASE_REPLICAS",
                "jdbc:postgresql://r1:5433,r2:5433/arches?targetServerType=preferSecondary, postgres://u:p@r3/arches"),
                Map.of());
        assertThat(c.database().replicas()).containsExactly(
                "jdbc:postgresql://r1:5433,r2:5433/arches?targetServerType=preferSecondary",
                "jdbc:postgresql://r3/arches?user=u&password=p");
        assertThat(c.database().replicaMaxLag()).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_DATABASE_REPLICAS", "mysql://r1/arches"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("database.replicas:");
    }

    @Test
    void out_of_range_value_names_the_key_and_the_bound() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_DATABASE_POOL_MAX_CONNECTIONS", "0"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("database.pool.max_connections: must be between 1 and 10000, was 0");
    }

    @Test
    void embedding_claims_are_short_slices_and_query_embedding_is_bounded() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        // A dead node's claims wait out this lease (it was 5 minutes): a heartbeat renews live ones.
        assertThat(c.embedding().lease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.embedding().slicePassages()).isEqualTo(32);
        assertThat(c.search().queryEmbedTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.search().queryEmbedQueue()).isEqualTo(256);
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_EMBEDDING_SLICE_PASSAGES", "0"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("embedding.slice_passages: must be between 1 and 1000, was 0");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SEARCH_QUERY_EMBED_TIMEOUT", "5m"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("search.query_embed_timeout: ");
    }

    @Test
    void an_idempotency_lock_outlasts_any_statement() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertThat(c.idempotency().lockTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.idempotency().maxWait()).isEqualTo(Duration.ofSeconds(5));
        // A retry would take over a key whose request still runs, and write a second time.
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_IDEMPOTENCY_LOCK_TIMEOUT", "30s"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("idempotency.lock_timeout: must be longer than database.statement_timeout");
    }

    @Test
    void malformed_values_are_rejected_with_the_key() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVER_PORT", "eighty"), Map.of()))
                .hasMessageStartingWith("server.port: must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_DATABASE_POOL_IDLE_TIMEOUT", "10 minutes"), Map.of()))
                .hasMessageStartingWith("database.pool.idle_timeout: must be a duration");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_DATABASE_URL", "mysql://x/y"), Map.of()))
                .hasMessageStartingWith("database.url:");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_REDIS_URL", "http://x"), Map.of()))
                .hasMessageStartingWith("redis.url:");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_AUTH_TOKEN_SECRET", "short"), Map.of()))
                .hasMessageStartingWith("auth.token_secret: must be at least 32 characters");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_LOG_ACCESS", "maybe"), Map.of()))
                .hasMessageStartingWith("log.access: must be true or false");
    }

    @Test
    void trusted_proxies_are_a_cidr_list_empty_by_default() {
        assertThat(ConfigLoader.load(Map.of(), Map.of()).server().trustedProxies()).isEmpty();
        ArchesConfig c = ConfigLoader.load(Map.of("ARCHES_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1"),
                Map.of());
        assertThat(c.server().trustedProxies()).extracting(Cidr::toString)
                .containsExactly("10.0.0.0/8", "192.168.1.7/32", "fd00:0:0:0:0:0:0:0/8", "0:0:0:0:0:0:0:1/128");
        List<Cidr> proxies = c.server().trustedProxies();
        assertThat(proxies.get(0).contains(java.net.InetAddress.ofLiteral("10.200.3.4"))).isTrue();
        assertThat(proxies.get(0).contains(java.net.InetAddress.ofLiteral("11.0.0.1"))).isFalse();
        assertThat(proxies.get(2).contains(java.net.InetAddress.ofLiteral("fdab::1"))).isTrue();
        assertThat(proxies.get(2).contains(java.net.InetAddress.ofLiteral("10.0.0.1"))).isFalse();
    }

    @Test
    void a_bad_trusted_proxy_entry_names_the_setting() {
        for (String bad : List.of("10.0.0.0/33", "proxy.internal", "10.0.0.1/8", "fd00::/129", "10.0.0.0/x")) {
            assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVER_TRUSTED_PROXIES", "127.0.0.1," + bad), Map.of()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("server.trusted_proxies: ");
        }
    }

    @Test
    void registration_limits_and_the_hash_wait_have_defaults_and_bounds() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertThat(c.rateLimit().registerMaxPerAddress()).isEqualTo(10);
        assertThat(c.rateLimit().registerWindow()).isEqualTo(Duration.ofHours(1));
        assertThat(c.auth().password().maxWait()).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_AUTH_PASSWORD_MAX_WAIT", "0ms"), Map.of()))
                .hasMessage("auth.password.max_wait: must be between 0.001s and 1m, was 0ms");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_RATE_LIMIT_REGISTER_MAX_PER_ADDRESS", "0"), Map.of()))
                .hasMessageStartingWith("rate_limit.register_max_per_address: must be between 1");
    }

    @Test
    void the_token_cache_and_key_last_use_interval_have_defaults_and_bounds() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertThat(c.auth().accessTokenCache()).isEqualTo(100_000);
        assertThat(c.auth().apiKeyLastUsedInterval()).isEqualTo(Duration.ofSeconds(15));
        assertThat(ConfigLoader.load(Map.of("ARCHES_AUTH_ACCESS_TOKEN_CACHE", "0"), Map.of()).auth().accessTokenCache())
                .isZero();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_AUTH_ACCESS_TOKEN_CACHE", "-1"), Map.of()))
                .hasMessageStartingWith("auth.access_token_cache: must be between 0");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_AUTH_API_KEY_LAST_USED_INTERVAL", "2h"), Map.of()))
                .hasMessageStartingWith("auth.api_key_last_used_interval: must be between");
    }

    @Test
    void the_rate_limit_sync_interval_has_a_default_and_bounds() {
        assertThat(ConfigLoader.load(Map.of(), Map.of()).rateLimit().syncInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(ConfigLoader.load(Map.of("ARCHES_RATE_LIMIT_SYNC_INTERVAL", "250ms"), Map.of()).rateLimit()
                .syncInterval()).isEqualTo(Duration.ofMillis(250));
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_RATE_LIMIT_SYNC_INTERVAL", "1ms"), Map.of()))
                .hasMessage("rate_limit.sync_interval: must be between 0.01s and 1m, was 1ms");
    }

    @Test
    void tooling_variables_are_not_settings() {
        assertThat(ConfigLoader.load(Map.of("ARCHES_TEST_FOO", "1", "ARCHES_BENCH_BAR", "2"), Map.of()).server().port())
                .isEqualTo(8080);
    }

    @Test
    void min_connections_may_not_exceed_max() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(
                "ARCHES_DATABASE_POOL_MAX_CONNECTIONS", "5", "ARCHES_DATABASE_POOL_MIN_CONNECTIONS", "6"), Map.of()))
                .hasMessage("database.pool.min_connections: must not exceed database.pool.max_connections (5), was 6");
    }

    @Test
    void the_admin_listener_may_not_share_the_api_port() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVER_PORT", "9000", "ARCHES_ADMIN_PORT", "9000"),
                Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("admin.port: must differ from server.port (9000), or be 0 to turn the admin listener off");
        assertThat(ConfigLoader.load(Map.of("ARCHES_SERVER_PORT", "0", "ARCHES_ADMIN_PORT", "0"), Map.of()).admin()
                .port()).isZero();
        assertThat(ConfigLoader.load(Map.of("ARCHES_SERVER_PORT", "9000", "ARCHES_ADMIN_PORT", "9001"), Map.of())
                .admin().port()).isEqualTo(9001);
    }

    @Test
    void response_and_cache_size_bounds_have_defaults_and_limits() {
        ArchesConfig c = ConfigLoader.load(Map.of(), Map.of());
        assertThat(c.server().maxPageBytes()).isEqualTo(1L << 20);
        assertThat(c.cache().l1MaxBytes()).isEqualTo(64L << 20);
        assertThat(c.cache().l2MaxValueBytes()).isEqualTo(256L << 10);
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVER_MAX_PAGE_BYTES", "1KiB"), Map.of()))
                .hasMessage("server.max_page_bytes: must be between 65536 and 1073741824 bytes, was 1KiB");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVER_MAX_PAGE_BYTES", "512KiB"), Map.of()))
                .hasMessage("server.max_page_bytes: must be at least server.max_body (1048576 bytes), was 524288");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_CACHE_L1_MAX_BYTES", "1KiB"), Map.of()))
                .hasMessageStartingWith("cache.l1_max_bytes: must be between 1048576 and");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_CACHE_L2_MAX_VALUE_BYTES", "1GiB"), Map.of()))
                .hasMessageStartingWith("cache.l2_max_value_bytes: must be between 1024 and 536870912 bytes");
    }

    @Test
    void unknown_arches_variables_are_errors_not_silently_ignored() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_SERVR_PORT", "1"), Map.of()))
                .hasMessageStartingWith("ARCHES_SERVR_PORT: no such setting");
    }

    @Test
    void bad_config_stops_the_process_with_one_line_naming_the_key() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "ai.arches.app.Main"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("ARCHES_"));
        pb.environment().put("ARCHES_DATABASE_POOL_CONNECTION_TIMEOUT", "forever");
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes()).strip();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err.lines()).hasSize(1);
        assertThat(err).contains("database.pool.connection_timeout").contains("must be a duration");
    }

    @Test
    void an_invalid_database_url_never_prints_its_password() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_DATABASE_URL", "postgres://app:s3cr et!pw@db.example/arches"),
                Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("database.url: not a valid URL")
                .hasMessageNotContaining("s3cr");
    }

    @Test
    void an_invalid_redis_url_is_refused_without_printing_its_password() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("ARCHES_REDIS_URL", "redis://:r3d1s pw@cache.example:6379"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("redis.url: not a valid URL")
                .hasMessageNotContaining("r3d1s");
    }

    @Test
    void secret_values_are_masked_in_every_error() {
        String marker = "SeCrEtMaRkEr0123456789abcdefXYZ!";
        for (String secretKey : Secrets.KEYS) {
            // Another setting holding the same value (a pasted secret in the wrong place) is echoed
            // by its own error; the mask still applies.
            assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of(secretKey, marker, "embedding.provider", marker)))
                    .as(secretKey)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("embedding.provider: must be one of local, openai")
                    .hasMessageNotContaining(marker);
        }
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("metrics.token", "short secret")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("metrics.token: must be empty or 16 to 512 visible ASCII characters without spaces, was 12 characters");
    }

    @Test
    void a_metrics_token_is_read_when_long_enough() {
        assertThat(ConfigLoader.load(Map.of(), Map.of()).metrics().protectedByToken()).isFalse();
        assertThat(ConfigLoader.load(Map.of("ARCHES_METRICS_TOKEN", "0123456789abcdef"), Map.of()).metrics().token())
                .isEqualTo("0123456789abcdef");
    }
}
