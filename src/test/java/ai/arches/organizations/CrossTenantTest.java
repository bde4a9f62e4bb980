package ai.arches.organizations;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.arches.http.ApiRouter;
import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

/**
 * Probes every route the server registers under /organizations/{org} with callers from another
 * organization: a user who is not a member, and an API key of another organization. Each probe
 * must be 404 (existence does not leak) and nothing of the victim may change.
 */
class CrossTenantTest extends ServerTest {

    private record Victim(String org, String slug, String content, String workflow, String run, String owner, String key) {}

    private Victim victim(Api.Session owner) {
        String org = api.newOrg(owner, "victim");
        String slug = api.get("/api/v1/organizations/" + org, owner.token()).json().get("slug").asText();
        String base = "/api/v1/organizations/" + org;
        String content = api.post(base + "/content", owner.token(), Map.of("title", "secret", "body", "classified"))
                .json().get("id").asText();
        String workflow = api.post(base + "/workflows", owner.token(), Map.of("name", "wf", "definition",
                Map.of("nodes", List.of(Map.of("id", "a", "type", "noop")), "edges", List.of()))).json().get("id").asText();
        String key = api.post(base + "/api-keys", owner.token(), Map.of("name", "k", "role", "viewer"))
                .json().get("id").asText();
        String run = api.post(base + "/workflows/" + workflow + "/runs", owner.token(), Map.of("input", Map.of()))
                .json().get("id").asText();
        return new Victim(org, slug, content, workflow, run, owner.userId(), key);
    }

    private static Object bodyFor(String template) {
        if (template.endsWith("/members")) {
            return Map.of("email", "someone@example.com", "role", "viewer");
        }
        if (template.endsWith("/members/{userId}")) {
            return Map.of("role", "viewer");
        }
        if (template.contains("/api-keys")) {
            return Map.of("name", "stolen", "role", "viewer");
        }
        if (template.contains("/content")) {
            return Map.of("title", "pwned", "body", "pwned");
        }
        if (template.endsWith("/runs")) {
            return Map.of("input", Map.of("pwned", true));
        }
        if (template.contains("/workflows")) {
            return Map.of("name", "pwned", "definition", Map.of("nodes", List.of(Map.of("id", "x", "type", "t"))));
        }
        return Map.of("name", "pwned");
    }

    private static String fill(String template, String orgRef, Victim v) {
        String id = template.contains("/workflows/") ? v.workflow() : v.content();
        return template.replace("{org}", orgRef).replace("{id}", id).replace("{userId}", v.owner())
                .replace("{keyId}", v.key()).replace("{runId}", v.run());
    }

    private List<String> probe(String token, java.util.function.Function<String, String> path) {
        List<String> leaks = new ArrayList<>();
        for (ApiRouter.Route r : server.arches().routes()) {
            if (!r.template().contains("{org}")) {
                continue;
            }
            String p = path.apply(r.template());
            Object body = r.method().equals("POST") || r.method().equals("PATCH") ? bodyFor(r.template()) : null;
            var resp = api.send(r.method(), p, token, body == null ? null : "application/json", Api.json(body), Map.of());
            if (resp.status() != 404) {
                leaks.add(r.method() + " " + p + " -> " + resp.status());
            }
        }
        return leaks;
    }

    @Test
    void a_stranger_gets_404_on_every_route_of_another_organization() {
        var owner = api.newUser("Victim");
        var stranger = api.newUser("Stranger");
        Victim v = victim(owner);
        assertThat(probe(stranger.token(), t -> fill(t, v.org(), v))).isEmpty();
        assertThat(probe(stranger.token(), t -> fill(t, v.slug(), v))).isEmpty();
        assertUntouched(owner, v);
    }

    @Test
    void another_organizations_api_key_gets_404_everywhere() {
        var owner = api.newUser("Victim2");
        var attacker = api.newUser("Attacker");
        Victim v = victim(owner);
        String attackerOrg = api.newOrg(attacker, "attacker");
        String adminKey = api.post("/api/v1/organizations/" + attackerOrg + "/api-keys", attacker.token(),
                Map.of("name", "k", "role", "admin")).json().get("key").asText();
        assertThat(probe(adminKey, t -> fill(t, v.org(), v))).isEmpty();
        assertUntouched(owner, v);
    }

    @Test
    void ids_of_another_organization_are_404_inside_your_own() {
        var owner = api.newUser("Victim3");
        var attacker = api.newUser("Insider");
        Victim v = victim(owner);
        String own = api.newOrg(attacker, "own");
        List<String> leaks = new ArrayList<>();
        for (ApiRouter.Route r : server.arches().routes()) {
            boolean hasForeignId = r.template().contains("{id}") || r.template().contains("{keyId}")
                    || r.template().contains("{userId}") || r.template().contains("{runId}");
            if (!r.template().contains("{org}") || !hasForeignId) {
                continue;
            }
            String p = fill(r.template(), own, v);
            Object body = r.method().equals("PATCH") ? bodyFor(r.template()) : null;
            var resp = api.send(r.method(), p, attacker.token(), body == null ? null : "application/json",
                    Api.json(body), Map.of());
            if (resp.status() != 404) {
                leaks.add(r.method() + " " + p + " -> " + resp.status());
            }
        }
        assertThat(leaks).isEmpty();
        assertUntouched(owner, v);
    }

    private void assertUntouched(Api.Session owner, Victim v) {
        String base = "/api/v1/organizations/" + v.org();
        var org = api.get(base, owner.token());
        assertThat(org.status()).isEqualTo(200);
        assertThat(org.json().get("name").asText()).isEqualTo("victim");
        assertThat(api.get(base + "/content/" + v.content(), owner.token()).json().get("title").asText()).isEqualTo("secret");
        assertThat(api.get(base + "/workflows/" + v.workflow(), owner.token()).json().get("name").asText()).isEqualTo("wf");
        assertThat(api.get(base + "/members", owner.token()).json().get("data")).hasSize(1);
        assertThat(api.get(base + "/api-keys", owner.token()).json().get("data")).hasSize(1);
        assertThat(api.get(base + "/content", owner.token()).json().get("data")).hasSize(1);
        // No run started or cancelled by anyone else.
        assertThat(api.get(base + "/runs", owner.token()).json().get("data")).extracting(r -> r.get("id").asText())
                .containsExactly(v.run());
        assertThat(api.get(base + "/runs/" + v.run(), owner.token()).json().get("status").asText()).isNotEqualTo("cancelled");
    }
}
