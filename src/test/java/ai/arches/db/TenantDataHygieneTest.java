package ai.arches.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import ai.arches.observability.JsonLogFormatter;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * Tenant data stays out of exceptions and logs: a failing statement's message names neither its
 * bound values nor the row PostgreSQL quotes back, and a 503 tells the client nothing about the
 * pool.
 */
class TenantDataHygieneTest extends ServerTest {

    @Test
    void a_failing_statement_carries_no_bound_value_into_its_exception_or_the_log() {
        String marker = "tenant-secret-" + System.nanoTime() + "@example.com";
        Throwable failure = catchThrowable(() -> server.arches().database().withHandle(h -> {
            h.execute("CREATE TEMP TABLE hygiene (v text PRIMARY KEY)");
            h.createUpdate("INSERT INTO hygiene (v) VALUES (:v)").bind("v", marker).execute();
            return h.createUpdate("INSERT INTO hygiene (v) VALUES (:v)").bind("v", marker).execute();
        }));
        assertThat(Database.isUniqueViolation(failure)).isTrue();

        List<String> logged = new ArrayList<>();
        Logger logger = Logger.getLogger("ai.arches.test.hygiene");
        Handler capture = new Handler() {
            private final JsonLogFormatter format = new JsonLogFormatter();

            @Override
            public void publish(LogRecord r) {
                logged.add(format.format(r));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger.getLogger("").addHandler(capture);
        try {
            // As Problems logs an unexpected failure: message, causes and stack.
            logger.log(Level.SEVERE, "request failed unexpectedly", failure);
        } finally {
            Logger.getLogger("").removeHandler(capture);
        }
        assertThat(logged).isNotEmpty().allSatisfy(line -> assertThat(line).contains("hygiene").doesNotContain(marker));
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(t.toString()).doesNotContain(marker);
        }
    }

    @Test
    void pool_exhaustion_is_a_503_without_pool_internals() throws Exception {
        // Two connections: Flyway needs both at start-up; the test then holds both.
        try (TestServer small = TestServer.start(Map.of("database.pool.max_connections", "2",
                "database.pool.min_connections", "1", "database.pool.connection_timeout", "250ms",
                "embedding.workers", "0"));
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch held = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            List<Future<?>> holders = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                holders.add(threads.submit(() -> small.arches().database().withHandle(h -> {
                    held.countDown();
                    try {
                        return release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                })));
            }
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            try {
                var r = small.api().withoutContractCheck().post("/api/v1/auth/login", null,
                        Map.of("email", "nobody@example.com", "password", "whatever-password"));
                assertThat(r.status()).isEqualTo(503);
                assertThat(r.header("Content-Type")).startsWith("application/problem+json");
                String detail = r.json().get("detail").asText();
                assertThat(detail).contains("database").doesNotContainIgnoringCase("pool")
                        .doesNotContain("active=").doesNotContain("idle=").doesNotContain("total=")
                        .doesNotContain("waiting");
            } finally {
                release.countDown();
                for (Future<?> f : holders) {
                    f.get(10, TimeUnit.SECONDS);
                }
            }
        }
    }
}
