package ai.arches.admin.pprof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** The admin listener's /debug/pprof on a real server, recorded by the engine that loads here. */
class ProfilesTest extends ServerTest {
    private static final String OURS = "ai.arches.admin.pprof.Load.";
    private final String engine = Profiles.loadRecorder().name();

    @Override
    protected Map<String, String> overrides() {
        return Map.of("admin.port", Integer.toString(freePort()), "profiling.continuous", "true",
                "profiling.interval", "10ms", "profiling.window", "1m");
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Api admin() {
        return new Api("http://127.0.0.1:" + server.arches().adminPort()).withoutContractCheck();
    }

    /** A profile response as Go serves one, parsed back. */
    static PprofFile profile(Api.Response r, String filename) {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(r.header("Content-Disposition")).isEqualTo("attachment; filename=\"" + filename + "\"");
        assertThat(r.bytes()[0] & 0xff).as("gzip magic").isEqualTo(0x1f);
        return PprofFile.parse(r.bytes());
    }

    @Test
    void on_linux_x64_async_profiler_loads_from_its_jar() {
        assumeTrue(System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64"));
        assertThat(engine).startsWith("async-profiler 4.2");
    }

    @Test
    void index_lists_the_profiles_like_gos() {
        for (String path : List.of("/debug/pprof/", "/debug/pprof")) {
            var r = admin().get(path, null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).startsWith("text/html");
            assertThat(r.text()).contains("href=\"/debug/pprof/profile?seconds=30\"", "href=\"/debug/pprof/wall?seconds=30\"",
                    "href=\"/debug/pprof/allocs?seconds=30\"", "href=\"/debug/pprof/mutex?seconds=30\"",
                    "href=\"/debug/pprof/heap\"", "href=\"/debug/pprof/goroutine\"", "href=\"/debug/pprof/continuous\"",
                    "href=\"/debug/threads\"", engine);
        }
    }

    @Test
    void cpu_profile_has_cpu_nanoseconds_and_the_busy_method_and_go_reads_it() throws Exception {
        try (Load load = new Load().burning()) {
            PprofFile p = profile(admin().get("/debug/pprof/profile?seconds=2", null), "profile.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("samples/count", "cpu/nanoseconds");
            assertThat(p.periodType()).isEqualTo("cpu/nanoseconds");
            assertThat(p.period()).isEqualTo(10_000_000L);
            assertThat(p.defaultSampleType()).isEqualTo("cpu");
            assertThat(p.comments()).containsExactly(engine);
            assertThat(p.total("cpu/nanoseconds", OURS + "burn")).isPositive();
            assertThat(p.total("samples/count", OURS + "burn") * 10_000_000L)
                    .isEqualTo(p.total("cpu/nanoseconds", OURS + "burn"));

            String top = GoPprof.run("-top", admin().get("/debug/pprof/profile?seconds=1", null).bytes());
            if (top != null) {
                assertThat(top).contains("Type: cpu", "Load.burn");
            }
        }
    }

    @Test
    void go_tool_pprof_fetches_a_cpu_profile_from_the_url() throws Exception {
        assumeTrue(GoPprof.available(), "go not installed");
        try (Load load = new Load().burning()) {
            String raw = GoPprof.run("-raw", admin().base() + "/debug/pprof/profile?seconds=1");
            assertThat(raw).contains("PeriodType: cpu nanoseconds", "samples/count cpu/nanoseconds", OURS + "burn");
        }
    }

    @Test
    void wall_profile_sees_sleeping_threads() throws Exception {
        assumeTrue(engine.startsWith("async-profiler"), "wall needs async-profiler");
        try (Load load = new Load().napping()) {
            PprofFile p = profile(admin().get("/debug/pprof/wall?seconds=1", null), "wall.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("samples/count", "wall/nanoseconds");
            assertThat(p.total("wall/nanoseconds", OURS + "nap")).isPositive();
        }
    }

    @Test
    void allocs_profile_has_alloc_space_by_site_and_class() throws Exception {
        try (Load load = new Load().allocating()) {
            Api.Response r = admin().get("/debug/pprof/allocs?seconds=1", null);
            PprofFile p = profile(r, "allocs.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("alloc_objects/count", "alloc_space/bytes");
            assertThat(p.total("alloc_space/bytes", OURS + "allocate")).isPositive();
            assertThat(p.functions()).contains("byte[]");
            String raw = GoPprof.run("-raw", r.bytes());
            if (raw != null) {
                assertThat(raw).contains("alloc_objects/count alloc_space/bytes", OURS + "allocate");
            }
        }
    }

    @Test
    void mutex_profile_has_the_contended_monitor_and_lock() throws Exception {
        try (Load load = new Load().contending().contendingOnLock()) {
            Api.Response r = admin().get("/debug/pprof/mutex?seconds=1", null);
            PprofFile p = profile(r, "mutex.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("contentions/count", "delay/nanoseconds");
            assertThat(p.total("delay/nanoseconds", OURS + "contend")).isPositive();
            assertThat(p.total("delay/nanoseconds", OURS + "contendLock")).isPositive();
            String top = GoPprof.run("-top", r.bytes());
            if (top != null) {
                assertThat(top).contains("Type: delay", "Load.contend");
            }
        }
    }

    @Test
    void heap_without_seconds_is_every_live_object_by_class() throws Exception {
        Api.Response r = admin().get("/debug/pprof/heap", null);
        PprofFile p = profile(r, "heap.pb.gz");
        assertThat(p.sampleTypes()).containsExactly("inuse_objects/count", "inuse_space/bytes");
        assertThat(p.functions()).contains("byte[]", "java.lang.String", "ai.arches.admin.pprof.Profiles");
        assertThat(p.total("inuse_space/bytes", "")).isGreaterThan(1_000_000);
        String top = GoPprof.run("-top", r.bytes());
        if (top != null) {
            assertThat(top).contains("Type: inuse_space", "byte[]");
        }
    }

    @Test
    void heap_with_seconds_keeps_objects_allocated_then_and_still_live() throws Exception {
        assumeTrue(engine.startsWith("async-profiler"), "live objects need async-profiler");
        try (Load load = new Load().retaining()) {
            PprofFile p = profile(admin().get("/debug/pprof/heap?seconds=1", null), "heap.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("inuse_objects/count", "inuse_space/bytes");
            assertThat(p.total("inuse_space/bytes", OURS + "retain")).isPositive();
        }
    }

    @Test
    void goroutine_profile_counts_threads_virtual_ones_included() throws Exception {
        try (Load load = new Load().parkingVirtual()) {
            Api.Response r = admin().get("/debug/pprof/goroutine", null);
            PprofFile p = profile(r, "goroutine.pb.gz");
            assertThat(p.sampleTypes()).containsExactly("goroutine/count");
            assertThat(p.total("goroutine/count", OURS + "parkVirtual")).isEqualTo(1);
            assertThat(p.total("goroutine/count", "")).isGreaterThan(5);
            String top = GoPprof.run("-top", r.bytes());
            if (top != null) {
                assertThat(top).contains("Type: goroutine", "Load.parkVirtual");
            }
            JsonNode json = admin().get("/debug/pprof/goroutine?debug=2", null).json();
            assertThat(threads(json)).anyMatch(t -> t.path("name").asText().equals(Load.VIRTUAL_THREAD));
        }
    }

    @Test
    void threads_json_has_virtual_threads_and_the_thread_serving_the_request() throws Exception {
        try (Load load = new Load().parkingVirtual()) {
            Api.Response r = admin().get("/debug/threads", null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).startsWith("application/json");
            List<JsonNode> threads = threads(r.json());
            assertThat(threads).anyMatch(t -> t.path("name").asText().equals(Load.VIRTUAL_THREAD)
                    && t.path("virtual").asBoolean());
            // Helidon serves each request on a virtual thread: the one that took the dump.
            assertThat(threads).anyMatch(t -> t.path("virtual").asBoolean()
                    && t.path("stack").toString().contains("ai.arches.admin.pprof.ThreadDump.json"));
        }
    }

    static List<JsonNode> threads(JsonNode dump) {
        List<JsonNode> out = new ArrayList<>();
        dump.path("threadDump").path("threadContainers").forEach(c -> c.path("threads").forEach(out::add));
        return out;
    }

    @Test
    void bad_seconds_is_400_problem_naming_the_parameter() {
        for (String path : List.of("/debug/pprof/profile?seconds=0", "/debug/pprof/profile?seconds=301",
                "/debug/pprof/profile?seconds=-5", "/debug/pprof/profile?seconds=abc", "/debug/pprof/profile?seconds=",
                "/debug/pprof/allocs?seconds=1.5", "/debug/pprof/heap?seconds=0", "/debug/pprof/wall?seconds=9999999999")) {
            var r = admin().get(path, null);
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("seconds");
            assertThat(r.json().get("detail").asText()).contains("1 to 300");
        }
    }

    @Test
    void continuous_profile_has_the_recent_cpu_and_allocations() throws Exception {
        try (Load load = new Load().burning().allocating()) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            PprofFile cpu;
            while (true) {
                cpu = profile(admin().get("/debug/pprof/continuous", null), "continuous-cpu.pb.gz");
                if (cpu.total("samples/count", OURS + "burn") > 0 || System.nanoTime() > deadline) {
                    break;
                }
                LockSupport.parkNanos(200_000_000);
            }
            assertThat(cpu.sampleTypes()).containsExactly("samples/count", "cpu/nanoseconds");
            assertThat(cpu.period()).isEqualTo(10_000_000L);
            assertThat(cpu.total("cpu/nanoseconds", OURS + "burn")).isPositive();
            assertThat(cpu.comments().getFirst()).contains("last PT1M");

            PprofFile allocs = profile(admin().get("/debug/pprof/continuous?kind=allocs", null), "continuous-allocs.pb.gz");
            assertThat(allocs.sampleTypes()).containsExactly("alloc_objects/count", "alloc_space/bytes");
            assertThat(allocs.total("alloc_space/bytes", "")).isPositive();
        }
        var bad = admin().get("/debug/pprof/continuous?kind=heap", null);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("errors").get(0).get("field").asText()).isEqualTo("kind");
    }
}
