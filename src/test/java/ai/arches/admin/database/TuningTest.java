package ai.arches.admin.database;

import static ai.arches.admin.database.Tuning.GB;
import static ai.arches.admin.database.Tuning.KB;
import static ai.arches.admin.database.Tuning.MB;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TuningTest {

    private static Map<String, Object> values(HostFacts host, Tuning.Deployment d) {
        Map<String, Object> out = new LinkedHashMap<>();
        Tuning.advise(host, d).forEach(a -> out.put(a.name(), a.value()));
        return out;
    }

    private static HostFacts host(int cores, long memory, boolean ssd) {
        return new HostFacts(cores, memory, Tuning.human(memory), "test", ssd ? "ssd" : "hdd", "test");
    }

    @Test
    void matches_pgtune_for_a_web_application_on_4_gb_2_cores_ssd_200_connections() {
        // PGTune's output for exactly these inputs (DB type web, PostgreSQL 14+).
        var d = new Tuning.Deployment(1, 186, 0, 1, 187, 3, 10, 13, 200);
        assertThat(values(host(2, 4 * GB, true), d)).containsAllEntriesOf(Map.ofEntries(
                Map.entry("max_connections", 200L),
                Map.entry("shared_buffers", GB),
                Map.entry("effective_cache_size", 3 * GB),
                Map.entry("maintenance_work_mem", 256 * MB),
                Map.entry("checkpoint_completion_target", 0.9),
                Map.entry("wal_buffers", 16 * MB),
                Map.entry("default_statistics_target", 100L),
                Map.entry("random_page_cost", 1.1),
                Map.entry("effective_io_concurrency", 200L),
                Map.entry("work_mem", 5242 * KB),
                Map.entry("min_wal_size", GB),
                Map.entry("max_wal_size", 4 * GB),
                Map.entry("max_worker_processes", 2L),
                Map.entry("max_parallel_workers_per_gather", 1L),
                Map.entry("max_parallel_workers", 2L),
                Map.entry("max_parallel_maintenance_workers", 1L),
                Map.entry("huge_pages", "off")));
    }

    @Test
    void big_hosts_cap_maintenance_memory_and_parallelism_and_try_huge_pages() {
        var v = values(host(32, 128 * GB, false), Tuning.Deployment.of(4, 20, 4, 3));
        assertThat(v.get("maintenance_work_mem")).isEqualTo(2 * GB);
        assertThat(v.get("max_parallel_workers_per_gather")).isEqualTo(4L);
        assertThat(v.get("max_worker_processes")).isEqualTo(32L);
        assertThat(v.get("huge_pages")).isEqualTo("try");
        assertThat(v.get("random_page_cost")).isEqualTo(4.0);
        assertThat(v.get("effective_io_concurrency")).isEqualTo(2L);
    }

    @Test
    void autovacuum_and_the_counts_it_needs_are_on_for_every_host() {
        for (HostFacts h : List.of(host(1, 2 * GB, true), host(32, 128 * GB, false))) {
            var v = values(h, Tuning.Deployment.of(1, 8, 4, 3));
            assertThat(v.get("autovacuum")).isEqualTo("on");
            assertThat(v.get("track_counts")).isEqualTo("on");
        }
    }

    @Test
    void connections_are_every_nodes_pools_and_listener_plus_a_node_of_headroom() {
        var d = Tuning.Deployment.of(3, 20, 4, 3);
        assertThat(d.perNode()).isEqualTo(25);
        assertThat(d.headroom()).isEqualTo(25 + 3 + 10);
        assertThat(d.connections()).isEqualTo(3 * 25 + 38);
        assertThat(Tuning.advise(host(1, 2 * GB, true), d)).allSatisfy(a -> assertThat(a.reason()).isNotBlank())
                .anySatisfy(a -> assertThat(a.name()).isEqualTo("max_parallel_workers_per_gather"));
    }

    @Test
    void sizes_convert_from_pg_settings_units_and_display_as_postgresql_writes_them() {
        assertThat(SettingsAdvice.bytes("16384", "8kB")).isEqualTo(128 * MB);
        assertThat(SettingsAdvice.bytes("4096", "kB")).isEqualTo(4 * MB);
        assertThat(SettingsAdvice.bytes("1024", "MB")).isEqualTo(GB);
        assertThat(Tuning.display(4 * GB)).isEqualTo("4GB");
        assertThat(Tuning.display(6026 * MB)).isEqualTo("6026MB");
        assertThat(Tuning.display(5242 * KB)).isEqualTo("5242kB");
    }

    @Test
    void the_data_directorys_disk_is_read_from_sysfs(@TempDir Path tmp) throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        long dev = ((Number) Files.getAttribute(data, "unix:dev")).longValue();
        long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
        long minor = (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
        Path sys = tmp.resolve("sys");
        Path queue = Files.createDirectories(sys.resolve("devices/sdz/queue"));
        Files.createDirectories(sys.resolve("dev/block"));
        Files.createSymbolicLink(sys.resolve("dev/block/" + major + ":" + minor), sys.resolve("devices/sdz"));
        Files.writeString(queue.resolve("rotational"), "1\n");
        HostFacts.Disk spinning = HostFacts.disk(data.toString(), sys);
        assertThat(spinning.ssd()).isFalse();
        assertThat(spinning.source()).contains("sdz").contains("rotational is 1");

        Files.writeString(queue.resolve("rotational"), "0\n");
        assertThat(HostFacts.disk(data.toString(), sys).ssd()).isTrue();
        HostFacts.Disk unknown = HostFacts.disk(data.toString(), tmp.resolve("nosys"));
        assertThat(unknown.ssd()).isTrue();
        assertThat(unknown.source()).contains("assumed SSD");
        assertThat(HostFacts.disk(null, sys).source()).contains("assumed SSD");
    }

    @Test
    void advise_prints_one_row_per_setting_with_its_reason() {
        var d = Tuning.Deployment.of(2, 8, 4, 3);
        HostFacts h = host(2, 4 * GB, true);
        List<SettingsAdvice.Setting> settings = Tuning.advise(h, d).stream()
                .map(a -> new SettingsAdvice.Setting(a.name(), a.value(), a.value().toString(), a.value(),
                        a.value().toString(), true, "reload", false, a.reason()))
                .toList();
        String text = Advise.render(new SettingsAdvice.Advice(h, d, settings, List.of(), List.of("a note")));
        assertThat(text).contains("SETTING", "ADVISED", "CURRENT", "shared_buffers", "a quarter of 4.0 GB of RAM",
                "Note: a note");
        assertThat(text.lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(100));
    }
}
