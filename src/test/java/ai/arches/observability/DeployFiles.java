package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import ai.arches.testing.Prerequisites;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The operations files under deploy/ (Prometheus rules and their unit tests, the Grafana
 * dashboard) as the tests read them, and promtool, found where OperationsTest finds it: the
 * tests that need it are skipped when it is missing, unless ARCHES_TEST_REQUIRE_PROMTOOL=1
 * (make test) demands it.
 */
final class DeployFiles {
    static final Path PROMETHEUS = Path.of("deploy", "prometheus");
    static final Path ALERTS = PROMETHEUS.resolve("alerts.yml");
    static final Path DASHBOARD = Path.of("deploy", "grafana", "arches.json");
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    private DeployFiles() {}

    /** A rule (recording or alerting) as written: its name, expression and whole node. */
    record Rule(String name, boolean alert, String expr, JsonNode node) {}

    /** A query of the dashboard: where it sits (for messages) and its PromQL. */
    record Query(String where, String expr) {}

    static List<Rule> rules() {
        List<Rule> out = new ArrayList<>();
        for (JsonNode group : yaml(ALERTS).get("groups")) {
            for (JsonNode r : group.get("rules")) {
                boolean alert = r.has("alert");
                out.add(new Rule(r.get(alert ? "alert" : "record").asText(), alert, r.get("expr").asText(), r));
            }
        }
        return out;
    }

    /** The promtool unit-test files, deploy/prometheus/*.test.yml. */
    static List<Path> ruleTests() {
        try (Stream<Path> files = Files.list(PROMETHEUS)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".test.yml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode dashboard() {
        try {
            return new ObjectMapper().readTree(DASHBOARD.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every Prometheus query of the dashboard: panel targets and template variables. */
    static List<Query> dashboardQueries() {
        JsonNode d = dashboard();
        List<Query> out = new ArrayList<>();
        for (JsonNode panel : panels(d)) {
            for (JsonNode t : panel.path("targets")) {
                if (t.has("expr")) {
                    out.add(new Query("panel \"" + panel.path("title").asText() + "\" target " + t.path("refId").asText(),
                            t.get("expr").asText()));
                }
            }
        }
        for (JsonNode v : d.path("templating").path("list")) {
            if (v.path("type").asText().equals("query")) {
                JsonNode q = v.path("query");
                String text = q.isObject() ? q.path("query").asText() : q.asText();
                // label_values(metric_selector, label): the first argument is PromQL.
                var m = java.util.regex.Pattern.compile("^label_values\\((.*),\\s*\\w+\\)$").matcher(text.strip());
                out.add(new Query("variable $" + v.path("name").asText(), m.matches() ? m.group(1) : text));
            }
        }
        return out;
    }

    /** All panels, rows' children included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add);
        }
        return out;
    }

    static JsonNode yaml(Path file) {
        try {
            return new YAMLMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** promtool's path; the calling test is skipped when it is missing and not required. */
    static Path promtool() {
        Prerequisites.assume("PROMTOOL", Files.isExecutable(PROMTOOL), "promtool not installed (Debian package prometheus)");
        return PROMTOOL;
    }

    /** Runs promtool with these arguments in {@code dir}; asserts exit 0 and returns its output. */
    static String promtool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(promtool().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("promtool %s finished", args[0]).isTrue();
        String text = new String(out);
        assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), text).isZero();
        return text;
    }
}
