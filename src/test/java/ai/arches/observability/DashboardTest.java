package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in deploy/grafana: the guide's views are there, every query goes through
 * the templated Prometheus data source and parses as PromQL, and the layout is sound.
 * (DeployMetricsTest checks that the metrics it queries exist.)
 */
class DashboardTest {
    private static final String DATASOURCE = "${datasource}";

    @Test
    void the_data_source_is_a_template_variable_every_panel_and_query_uses() {
        JsonNode d = DeployFiles.dashboard();
        JsonNode variable = null;
        for (JsonNode v : d.path("templating").path("list")) {
            if (v.path("name").asText().equals("datasource")) {
                variable = v;
            }
        }
        assertThat(variable).as("a $datasource variable").isNotNull();
        assertThat(variable.path("type").asText()).isEqualTo("datasource");
        assertThat(variable.path("query").asText()).isEqualTo("prometheus");
        for (JsonNode p : DeployFiles.panels(d)) {
            if (p.path("type").asText().equals("row")) {
                continue;
            }
            String title = p.path("title").asText();
            assertThat(p.path("datasource").path("uid").asText()).as(title).isEqualTo(DATASOURCE);
            assertThat(p.path("targets")).as(title).isNotEmpty();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("datasource").path("uid").asText()).as(title).isEqualTo(DATASOURCE);
                assertThat(t.path("expr").asText()).as(title).isNotBlank();
            }
        }
        for (JsonNode v : d.path("templating").path("list")) {
            if (v.path("type").asText().equals("query")) {
                assertThat(v.path("datasource").path("uid").asText()).as("$" + v.path("name").asText()).isEqualTo(DATASOURCE);
            }
        }
    }

    @Test
    void it_has_the_guides_views() {
        List<String> titles = DeployFiles.panels(DeployFiles.dashboard()).stream().map(p -> p.path("title").asText()).toList();
        assertThat(titles).contains(
                "Request rate by route", "p50 by route (target 50 ms)", "p95 by route (target 200 ms)",
                "p99 by route (target 500 ms)", "5xx by route and status", "Statement time p95 by query type",
                "Pool connections", "Wait at the fair gate for a connection", "Hit ratio by level",
                "Requests refused with 429 by route", "Search latency", "Embedding backlog", "Documents embedded",
                "Runs started and finished", "Step due to start (enqueue to start)", "Heap", "GC pause time share");
    }

    @Test
    void panels_have_unique_ids_and_do_not_overlap_on_the_24_column_grid() {
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode p : DeployFiles.panels(DeployFiles.dashboard())) {
            String title = p.path("title").asText();
            assertThat(ids.add(p.path("id").asInt())).as("id of %s", title).isTrue();
            JsonNode g = p.path("gridPos");
            int[] box = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
            assertThat(box[2]).as("width of %s", title).isPositive();
            assertThat(box[0] + box[2]).as("right edge of %s", title).isLessThanOrEqualTo(24);
            for (int[] other : boxes) {
                boolean overlap = box[0] < other[0] + other[2] && other[0] < box[0] + box[2]
                        && box[1] < other[1] + other[3] && other[1] < box[1] + box[3];
                assertThat(overlap).as("%s overlaps another panel", title).isFalse();
            }
            boxes.add(box);
        }
    }

    /**
     * promtool has no expression check of its own, so each query (Grafana's variables replaced
     * by values they could take) goes into a throwaway rule file for promtool check rules.
     */
    @Test
    void every_query_is_valid_promql() throws Exception {
        DeployFiles.promtool();
        List<Map<String, String>> rules = new ArrayList<>();
        int n = 0;
        for (DeployFiles.Query q : DeployFiles.dashboardQueries()) {
            String expr = q.expr().replace("$__rate_interval", "5m").replaceAll("\\$\\{?\\w+}?", ".*");
            rules.add(Map.of("record", "dashboard:query:" + n++, "expr", expr));
        }
        Path dir = Files.createTempDirectory("dashboard-rules");
        Path file = dir.resolve("queries.yml");
        new YAMLMapper().writeValue(file.toFile(), Map.of("groups", List.of(Map.of("name", "dashboard", "rules", rules))));
        try {
            String out = DeployFiles.promtool(dir, "check", "rules", "queries.yml");
            assertThat(out).contains("SUCCESS: " + rules.size() + " rules found");
        } finally {
            Files.delete(file);
            Files.delete(dir);
        }
    }
}
