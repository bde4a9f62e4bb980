package ai.arches.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import ai.arches.config.ArchesConfig;
import ai.arches.config.ConfigLoader;
import ai.arches.testing.Prerequisites;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s and deploy/Dockerfile: the manifests pass the Kubernetes schemas (tools/k8s-validate,
 * which catches what a typo'd field or a wrong type would do: the negative cases below), their
 * settings are real ones, and the probes, the stop and the autoscaler agree with the platform.
 * The validator needs Node.js; without it these checks are skipped unless
 * ARCHES_TEST_REQUIRE_NODE=1 (make test) demands them. The image build needs podman and the
 * base images already present (no registry is reached from a test).
 */
class KubernetesManifestsTest {
    private static final Path K8S = Path.of("deploy", "k8s");
    private static final Path DOCKERFILE = Path.of("deploy", "Dockerfile");
    private static final Path VALIDATOR = Path.of("tools", "k8s-validate");
    /** Files of deploy/k8s that are not Kubernetes resources. */
    private static final Set<String> NOT_RESOURCES = Set.of("kustomization.yaml", "prometheus-adapter-rules.yaml");

    private record Run(int exit, String output) {}

    @BeforeAll
    static void installTheValidator() throws Exception {
        if (node() == null) {
            return;
        }
        Run r = run(VALIDATOR, Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        assertThat(r.exit()).as("npm ci in %s:%n%s", VALIDATOR, r.output()).isZero();
    }

    @Test
    void the_manifests_pass_the_kubernetes_schemas() throws Exception {
        Run r = validate(K8S);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains(resources().size() + " documents valid");
    }

    @Test
    void a_misspelled_field_fails_validation(@TempDir Path dir) throws Exception {
        Path copy = copyOfManifests(dir);
        replace(copy.resolve("deployment.yaml"), "readinessProbe:", "readinesProbe:");
        Run r = validate(copy);
        assertThat(r.exit()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("unknown field spec.template.spec.containers[0].readinesProbe");
    }

    @Test
    void a_value_of_the_wrong_type_fails_validation(@TempDir Path dir) throws Exception {
        Path copy = copyOfManifests(dir);
        replace(copy.resolve("hpa.yaml"), "averageUtilization: 70", "averageUtilization: \"70%\"");
        Run r = validate(copy);
        assertThat(r.exit()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("spec/metrics/0/resource/target/averageUtilization must be integer");
    }

    @Test
    void every_kubernetes_file_is_listed_in_the_kustomization() throws IOException {
        try (Stream<Path> files = Files.list(K8S)) {
            Set<String> yaml = new TreeSet<>(files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml")).toList());
            yaml.removeAll(NOT_RESOURCES);
            assertThat(new TreeSet<>(resources())).isEqualTo(yaml);
        }
    }

    @Test
    void every_setting_of_the_config_map_and_the_secret_is_a_real_setting() {
        Map<String, String> env = settings();
        assertThat(env).allSatisfy((k, v) -> assertThat(k).startsWith("ARCHES_"));
        ArchesConfig c = ConfigLoader.load(env, Map.of());
        assertThat(c.server().port()).isEqualTo(8080);
        assertThat(c.admin().host()).isEqualTo("127.0.0.1");
        assertThat(c.auth().tokenSecret()).isNotEmpty();
        assertThat(c.redis().enabled()).isTrue();
        assertThat(yaml("secret.yaml").path("stringData").properties())
                .allSatisfy(e -> assertThat(e.getValue().asText()).as(e.getKey()).contains("CHANGE-ME"));
    }

    @Test
    void the_probes_and_the_stop_follow_the_platform() {
        ArchesConfig c = ConfigLoader.load(settings(), Map.of());
        JsonNode pod = yaml("deployment.yaml").path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);
        assertThat(container.path("ports")).hasSize(1);
        JsonNode port = container.path("ports").get(0);
        assertThat(port.path("name").asText()).isEqualTo("http");
        assertThat(port.path("containerPort").asInt()).isEqualTo(c.server().port());
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("port").asText()).as(probe).isEqualTo("http");
        }
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/ready");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/health");

        // A Service named arches would otherwise bring ARCHES_SERVICE_HOST and friends: start-up errors.
        assertThat(pod.path("enableServiceLinks").asBoolean(true)).isFalse();

        JsonNode preStop = container.path("lifecycle").path("preStop").path("exec").path("command");
        assertThat(preStop.get(0).asText()).isEqualTo("sleep");
        long sleep = preStop.get(1).asLong();
        assertThat(Duration.ofSeconds(sleep)).as("preStop sleep matches server.drain_delay").isEqualTo(c.server().drainDelay());
        Duration stop = Duration.ofSeconds(sleep).plus(c.server().drainDelay()).plus(c.server().shutdownGrace());
        assertThat(Duration.ofSeconds(pod.path("terminationGracePeriodSeconds").asLong())).isGreaterThan(stop);
    }

    @Test
    void the_pod_runs_unprivileged_on_a_read_only_root_as_the_image_user() throws IOException {
        JsonNode pod = yaml("deployment.yaml").path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
        assertThat(container.path("volumeMounts").findValuesAsText("mountPath")).contains("/tmp");
        assertThat(container.path("resources").path("requests").path("cpu").isMissingNode()).isFalse();
        assertThat(container.path("resources").path("limits").path("memory").isMissingNode()).isFalse();

        String dockerfile = Files.readString(DOCKERFILE);
        Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$").matcher(dockerfile);
        assertThat(user.find()).as("a numeric USER in %s", DOCKERFILE).isTrue();
        assertThat(pod.path("securityContext").path("runAsUser").asText()).isEqualTo(user.group(1));
        assertThat(pod.path("securityContext").path("runAsGroup").asText()).isEqualTo(user.group(2));
        assertThat(dockerfile).contains("FROM docker.io/library/eclipse-temurin:25-jre");
        // The flags `make run` starts the JVM with.
        Matcher opts = Pattern.compile("(?m)^JAVA_OPTS \\?= (.+)$").matcher(Files.readString(Path.of("Makefile")));
        assertThat(opts.find()).isTrue();
        for (String flag : opts.group(1).trim().split("\\s+")) {
            assertThat(dockerfile).contains("\"" + flag + "\"");
        }
    }

    @Test
    void the_service_carries_the_api_port_and_never_the_admin_listener() {
        ArchesConfig c = ConfigLoader.load(settings(), Map.of());
        JsonNode service = yaml("service.yaml");
        assertThat(service.path("spec").path("type").asText()).isEqualTo("ClusterIP");
        JsonNode ports = service.path("spec").path("ports");
        assertThat(ports).hasSize(1);
        assertThat(ports.get(0).path("port").asInt()).isEqualTo(c.server().port());
        assertThat(ports.get(0).path("targetPort").asText()).isEqualTo("http");
        assertThat(ports.findValuesAsText("port")).doesNotContain(String.valueOf(c.admin().port()));
        assertThat(c.admin().host()).isEqualTo("127.0.0.1");
        assertThat(service.path("spec").path("selector")).isEqualTo(podLabels());
    }

    @Test
    void the_autoscaler_scales_the_deployment_on_cpu_and_on_requests_per_second_from_the_platforms_counter()
            throws IOException {
        JsonNode hpa = yaml("hpa.yaml").path("spec");
        assertThat(hpa.path("scaleTargetRef").path("kind").asText()).isEqualTo("Deployment");
        assertThat(hpa.path("scaleTargetRef").path("name").asText())
                .isEqualTo(yaml("deployment.yaml").path("metadata").path("name").asText());
        assertThat(hpa.path("minReplicas").asInt()).isEqualTo(yaml("deployment.yaml").path("spec").path("replicas").asInt());
        Map<String, JsonNode> metrics = new HashMap<>();
        hpa.path("metrics").forEach(m -> metrics.put(m.path("type").asText(), m));
        assertThat(metrics.get("Resource").path("resource").path("name").asText()).isEqualTo("cpu");
        assertThat(metrics.get("Resource").path("resource").path("target").path("averageUtilization").asInt()).isEqualTo(70);
        String custom = metrics.get("Pods").path("pods").path("metric").path("name").asText();

        JsonNode rule = yaml("prometheus-adapter-rules.yaml").path("rules").get(0);
        assertThat(rule.path("name").path("as").asText()).isEqualTo(custom);
        // The counter the alerts read too, which DeployMetricsTest finds on a live node's /metrics.
        String counter = "http_request_duration_seconds_count";
        assertThat(rule.path("seriesQuery").asText()).startsWith(counter + "{");
        assertThat(rule.path("name").path("matches").asText()).isEqualTo("^" + counter + "$");
        assertThat(Files.readString(Path.of("deploy", "prometheus", "alerts.yml")))
                .contains(counter + "{endpoint=~\"/api/.+\", endpoint!~\".+/events\"}");
        assertThat(rule.path("metricsQuery").asText()).contains("endpoint=~\"/api/.+\",endpoint!~\".+/events\"");
    }

    @Test
    void the_disruption_budget_keeps_two_of_the_three_pods() {
        JsonNode pdb = yaml("pdb.yaml").path("spec");
        assertThat(pdb.path("minAvailable").asInt()).isEqualTo(2);
        assertThat(pdb.path("selector").path("matchLabels")).isEqualTo(podLabels());
        assertThat(yaml("deployment.yaml").path("spec").path("replicas").asInt()).isEqualTo(3);
    }

    @Test
    void the_image_builds_with_podman() throws Exception {
        assumeTrue(Prerequisites.onPath("podman") != null, "podman not installed: the image build is not tried");
        Matcher from = Pattern.compile("(?m)^FROM (\\S+)").matcher(Files.readString(DOCKERFILE));
        while (from.find()) {
            Run exists = run(Path.of("."), Duration.ofMinutes(1), "podman", "image", "exists", from.group(1));
            assumeTrue(exists.exit() == 0, "base image " + from.group(1) + " not present locally (`podman pull` it where a "
                    + "registry is reachable): the image build is not tried");
        }
        Run r = run(Path.of("."), Duration.ofMinutes(30), "podman", "build", "--pull=never", "-f", DOCKERFILE.toString(),
                "-t", "arches:test", ".");
        assertThat(r.exit()).as(r.output()).isZero();
    }

    // --- helpers

    private static Run validate(Path dir) throws IOException, InterruptedException {
        Path node = node();
        assumeTrue(node != null, "node not installed: the manifests are not validated");
        return run(Path.of("."), Duration.ofMinutes(2), node.toString(), VALIDATOR.resolve("validate.js").toString(),
                dir.toString());
    }

    /** node's path, or null; an error when missing and ARCHES_TEST_REQUIRE_NODE=1. */
    private static Path node() {
        Path node = Prerequisites.onPath("node");
        if ((node == null || Prerequisites.onPath("npm") == null) && Prerequisites.required("NODE")) {
            throw new AssertionError("node and npm must be on PATH when ARCHES_TEST_REQUIRE_NODE=1");
        }
        return node;
    }

    private static Run run(Path dir, Duration limit, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        // Read before waiting: a full pipe would stall the child.
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + limit);
        }
        return new Run(p.exitValue(), new String(out));
    }

    private static List<String> resources() {
        List<String> out = new ArrayList<>();
        yaml("kustomization.yaml").path("resources").forEach(r -> out.add(r.asText()));
        return out;
    }

    /** The ConfigMap's data and the Secret's stringData: the pods' ARCHES_* environment. */
    private static Map<String, String> settings() {
        Map<String, String> env = new HashMap<>();
        yaml("configmap.yaml").path("data").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        yaml("secret.yaml").path("stringData").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }

    private static JsonNode podLabels() {
        return yaml("deployment.yaml").path("spec").path("template").path("metadata").path("labels");
    }

    private static JsonNode yaml(String file) {
        try {
            return new YAMLMapper().readTree(K8S.resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path copyOfManifests(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static void replace(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertThat(text).contains(from);
        Files.writeString(file, text.replace(from, to));
    }
}
