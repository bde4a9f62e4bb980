package ai.arches.admin.pprof;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import ai.arches.config.ArchesConfig;
import ai.arches.http.ApiRouter;
import ai.arches.http.JsonIo;
import ai.arches.http.Problems;
import ai.arches.testing.Api;
import ai.arches.testing.Eventually;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The same routes recorded by Flight Recorder, as where async-profiler's native library cannot
 * load: Profiles on a Helidon server of its own (routes, problem mapping), forced to the fallback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlightRecorderFallbackTest {
    private static final String OURS = "ai.arches.admin.pprof.Load.";
    private static final ArchesConfig.Profiling OFF = new ArchesConfig.Profiling(false, Duration.ofMinutes(10),
            Duration.ofMillis(100));

    /** Profiles served alone on a random port. */
    record AdminServer(Profiles profiles, WebServer server, Api api) implements AutoCloseable {
        static AdminServer start(Profiles profiles) {
            HttpRouting.Builder routing = HttpRouting.builder();
            ApiRouter router = new ApiRouter(routing);
            JsonIo io = new JsonIo(1 << 20, 1024);
            profiles.register(router, io);
            Problems.register(routing, io, router);
            WebServer server = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false).routing(routing).build()
                    .start();
            return new AdminServer(profiles, server, new Api("http://127.0.0.1:" + server.port()).withoutContractCheck());
        }

        @Override
        public void close() {
            server.stop();
            profiles.close();
        }
    }

    private AdminServer admin;

    @BeforeAll
    void start() {
        admin = AdminServer.start(new Profiles(OFF, Profiles.flightRecorder(), Clock.systemUTC()));
    }

    @AfterAll
    void stop() {
        admin.close();
    }

    @Test
    void cpu_profile_comes_from_flight_recorder_and_go_reads_it() throws Exception {
        try (Load load = new Load().burning()) {
            Api.Response r = admin.api().get("/debug/pprof/profile?seconds=2", null);
            PprofFile p = ProfilesTest.profile(r, "profile.pb.gz");
            assertThat(p.comments()).containsExactly("JDK Flight Recorder (forced)");
            assertThat(p.sampleTypes()).containsExactly("samples/count", "cpu/nanoseconds");
            assertThat(p.total("cpu/nanoseconds", OURS + "burn")).isPositive();
            String top = GoPprof.run("-top", r.bytes());
            if (top != null) {
                assertThat(top).contains("Type: cpu", "Load.burn");
            }
        }
    }

    @Test
    void allocs_profile_comes_from_jfr_allocation_samples() throws Exception {
        try (Load load = new Load().allocating()) {
            PprofFile p = ProfilesTest.profile(admin.api().get("/debug/pprof/allocs?seconds=1", null), "allocs.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("alloc_objects/count", "alloc_space/bytes");
            assertThat(p.total("alloc_space/bytes", OURS + "allocate")).isPositive();
        }
    }

    @Test
    void mutex_profile_comes_from_jfr_monitor_and_park_events_but_not_idle_waits() throws Exception {
        try (Load load = new Load().contending().contendingOnLock()) {
            PprofFile p = ProfilesTest.profile(admin.api().get("/debug/pprof/mutex?seconds=1", null), "mutex.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("contentions/count", "delay/nanoseconds");
            assertThat(p.total("delay/nanoseconds", OURS + "contend")).isPositive();
            assertThat(p.total("delay/nanoseconds", OURS + "contendLock")).isPositive();
            // Pools waiting for work and awaited conditions park too, but are not contention.
            assertThat(p.functions()).doesNotContain("java.util.concurrent.ForkJoinPool",
                    "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject");
        }
    }

    @Test
    void what_only_async_profiler_records_is_503_and_the_class_histogram_still_works() {
        for (String path : new String[] {"/debug/pprof/wall?seconds=1", "/debug/pprof/heap?seconds=1"}) {
            var r = admin.api().get(path, null);
            assertThat(r.status()).as(path).isEqualTo(503);
            assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(r.json().get("detail").asText()).contains("needs async-profiler", "forced");
        }
        ProfilesTest.profile(admin.api().get("/debug/pprof/heap", null), "heap.pb.gz");
        assertThat(admin.api().get("/debug/pprof/", null).text()).contains("Not available: wall needs async-profiler");
    }

    @Test
    void continuous_is_404_when_off() {
        var r = admin.api().get("/debug/pprof/continuous", null);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().get("detail").asText()).contains("profiling.continuous");
    }

    @Test
    void a_second_profile_while_one_records_is_409_at_once() throws Exception {
        CompletableFuture<Api.Response> first = CompletableFuture.supplyAsync(
                () -> admin.api().get("/debug/pprof/profile?seconds=2", null));
        Eventually.status("first profile recording", 1, 5_000, () -> admin.profiles().recording() ? 1 : 0);
        long start = System.nanoTime();
        var second = admin.api().get("/debug/pprof/allocs?seconds=1", null);
        assertThat(second.status()).isEqualTo(409);
        assertThat(second.json().get("detail").asText()).contains("one profile is recorded at a time", "profile runs until");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
        assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        Eventually.status("lock released", 0, 5_000, () -> admin.profiles().recording() ? 1 : 0);
    }

    @Test
    void closing_ends_a_running_profile_early_so_shutdown_does_not_wait_for_it() throws Exception {
        try (AdminServer other = AdminServer.start(new Profiles(OFF, Profiles.flightRecorder(), Clock.systemUTC()))) {
            CompletableFuture<Api.Response> running = CompletableFuture.supplyAsync(
                    () -> other.api().get("/debug/pprof/profile?seconds=300", null));
            Eventually.status("profile recording", 1, 5_000, () -> other.profiles().recording() ? 1 : 0);
            other.profiles().close();
            assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
    }
}
