package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.arches.observability.PromQl.Matcher;
import ai.arches.observability.PromQl.Selector;

import org.junit.jupiter.api.Test;

/** The selector finder the deploy tests rely on: what it must find and what it must not mistake for a metric. */
class PromQlTest {

    @Test
    void finds_metrics_and_matchers_but_not_functions_aggregations_or_label_lists() {
        List<Selector> found = PromQl.selectors("""
                histogram_quantile(0.99, sum by (pool, le) (rate(db_pool_wait_seconds_bucket{pool="arches", le!~"x"}[5m])))
                / on (pool) group_left max without (instance) (hikaricp_connections_max) > bool 0.5
                and sum(rate(x_total[1h] offset 1d)) by (job) unless job:recorded:ratio_rate5m
                """);
        assertThat(found).containsExactly(
                new Selector("db_pool_wait_seconds_bucket", List.of(new Matcher("pool", "=", "arches"), new Matcher("le", "!~", "x"))),
                new Selector("hikaricp_connections_max", List.of()),
                new Selector("x_total", List.of()),
                new Selector("job:recorded:ratio_rate5m", List.of()));
    }

    @Test
    void skips_strings_comments_numbers_and_grafana_variables() {
        List<Selector> found = PromQl.selectors("""
                # a comment naming not_a_metric
                label_replace(up{instance=~"$instance", job="a\\"b"}, "dst", "$1", "src", "(.*)")
                * 1e3 + rate(m_count{endpoint=~"${endpoint}"}[$__rate_interval]) - Inf
                """);
        assertThat(found).extracting(Selector::metric).containsExactly("up", "m_count");
        assertThat(found.get(0).matchers()).contains(new Matcher("job", "=", "a\\\"b"));
    }

    @Test
    void reads_the_exposition_format_into_names_labels_and_values() {
        var exported = PromQl.exposition("""
                # HELP http_request_duration_seconds x
                # TYPE http_request_duration_seconds histogram
                http_request_duration_seconds_bucket{endpoint="/a/{id}",le="0.5"} 3
                http_request_duration_seconds_bucket{endpoint="/b",le="+Inf"} 4
                process_uptime_seconds 12.5
                """);
        assertThat(exported).containsOnlyKeys("http_request_duration_seconds_bucket", "process_uptime_seconds");
        assertThat(exported.get("http_request_duration_seconds_bucket")).isEqualTo(Map.of(
                "endpoint", Set.of("/a/{id}", "/b"), "le", Set.of("0.5", "+Inf")));
        assertThat(exported.get("process_uptime_seconds")).isEmpty();
    }
}
