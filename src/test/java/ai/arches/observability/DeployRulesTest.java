package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import ai.arches.observability.DeployFiles.Rule;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus rules in deploy/prometheus: valid, documented, each alert unit-tested both ways
 * and each recording rule's value unit-tested.
 */
class DeployRulesTest {

    @Test
    void the_rules_pass_promtool_check() throws Exception {
        String out = DeployFiles.promtool(DeployFiles.PROMETHEUS, "check", "rules", "alerts.yml");
        assertThat(out).contains("SUCCESS: " + DeployFiles.rules().size() + " rules found");
    }

    @Test
    void the_alerts_pass_their_promtool_unit_tests() throws Exception {
        List<String> args = new ArrayList<>(List.of("test", "rules"));
        DeployFiles.ruleTests().forEach(p -> args.add(p.getFileName().toString()));
        String out = DeployFiles.promtool(DeployFiles.PROMETHEUS, args.toArray(String[]::new));
        assertThat(out).doesNotContain("FAILED");
    }

    @Test
    void every_alert_has_a_severity_a_summary_a_description_and_a_runbook_note() {
        List<Rule> alerts = DeployFiles.rules().stream().filter(Rule::alert).toList();
        assertThat(alerts).isNotEmpty();
        for (Rule a : alerts) {
            assertThat(a.node().path("labels").path("severity").asText()).as(a.name()).isIn("critical", "warning");
            for (String annotation : List.of("summary", "description", "runbook")) {
                assertThat(a.node().path("annotations").path(annotation).asText()).as("%s %s", a.name(), annotation)
                        .isNotBlank();
            }
        }
    }

    @Test
    void recording_rules_are_named_level_metric_operation_and_defined_once() {
        Set<String> seen = new HashSet<>();
        for (Rule r : DeployFiles.rules()) {
            assertThat(seen.add(r.name())).as("%s defined twice", r.name()).isTrue();
            if (!r.alert()) {
                assertThat(r.name()).matches("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+");
            }
        }
    }

    @Test
    void every_recording_rule_has_a_promql_unit_test_of_its_value() {
        Set<String> queried = new HashSet<>();
        for (Path file : DeployFiles.ruleTests()) {
            for (JsonNode test : DeployFiles.yaml(file).get("tests")) {
                for (JsonNode check : test.path("promql_expr_test")) {
                    queried.addAll(List.of(check.get("expr").asText().split("[^A-Za-z0-9_:]+")));
                }
            }
        }
        for (Rule r : DeployFiles.rules().stream().filter(rule -> !rule.alert()).toList()) {
            assertThat(queried).as("a promql_expr_test of %s", r.name()).contains(r.name());
        }
    }

    @Test
    void every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet() {
        Set<String> fires = new HashSet<>();
        Set<String> quiet = new HashSet<>();
        for (Path file : DeployFiles.ruleTests()) {
            for (JsonNode test : DeployFiles.yaml(file).get("tests")) {
                for (JsonNode check : test.path("alert_rule_test")) {
                    String name = check.get("alertname").asText();
                    (check.path("exp_alerts").isEmpty() ? quiet : fires).add(name);
                }
            }
        }
        for (Rule a : DeployFiles.rules().stream().filter(Rule::alert).toList()) {
            assertThat(fires).as("a case where %s fires", a.name()).contains(a.name());
            assertThat(quiet).as("a case where %s stays quiet", a.name()).contains(a.name());
        }
    }
}
