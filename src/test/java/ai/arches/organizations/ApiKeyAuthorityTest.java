package ai.arches.organizations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * An API key never has more power than its creator has now: demoting the creator limits the
 * key, removing the creator revokes it, on every node within a second; keys may expire.
 */
class ApiKeyAuthorityTest extends ServerTest {
    private static final long BOUND_MS = 1_000;

    private record Team(Api.Session owner, Api.Session admin, String org) {
        String keys() {
            return "/api/v1/organizations/" + org + "/api-keys";
        }
    }

    private Team team(String name) {
        var owner = api.newUser(name + "Owner");
        var admin = api.newUser(name + "Admin");
        String org = api.newOrg(owner, name.toLowerCase());
        api.addMember(owner, org, admin, "admin");
        return new Team(owner, admin, org);
    }

    private String key(Team t, String token, String role) {
        var r = api.post(t.keys(), token, Map.of("name", "k", "role", role));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("key").asText();
    }

    @Test
    void a_demoted_creators_admin_key_acts_as_a_viewer_on_every_node() {
        Team t = team("Demote");
        String key = key(t, t.admin.token(), "admin");
        // A key minted by the key answers to the same creator.
        String minted = key(t, key, "admin");
        String orgPath = "/api/v1/organizations/" + t.org;
        try (TestServer b = TestServer.startOn(server.database(), Map.of())) {
            for (Api node : List.of(api, b.api())) {
                for (String k : List.of(key, minted)) {
                    assertThat(node.get(t.keys(), k).status()).isEqualTo(200);
                    assertThat(node.get(orgPath, k).json().get("role").asText()).isEqualTo("admin");
                }
            }
            assertThat(api.patch(orgPath + "/members/" + t.admin.userId(), t.owner.token(),
                    Map.of("role", "viewer")).status()).isEqualTo(200);
            for (Api node : List.of(api, b.api())) {
                for (String k : List.of(key, minted)) {
                    long ms = Eventually.status("listing keys after demotion", 403, BOUND_MS,
                            () -> node.get(t.keys(), k).status());
                    System.out.println("demoted key refused after " + ms + " ms");
                    assertThat(node.get(orgPath, k).json().get("role").asText()).isEqualTo("viewer");
                    assertThat(node.post(t.keys(), k, Map.of("name", "x", "role", "viewer")).status()).isEqualTo(403);
                    assertThat(node.post(orgPath + "/content", k, Map.of("title", "t", "body", "")).status())
                            .isEqualTo(403);
                    assertThat(node.get(orgPath + "/content", k).status()).isEqualTo(200);
                }
            }
            for (JsonNode k : api.get(t.keys(), t.owner.token()).json().get("data")) {
                assertThat(k.get("role").asText()).isEqualTo("viewer");
            }
        }
    }

    @Test
    void removing_the_creator_revokes_their_keys_on_every_node() {
        Team t = team("Remove");
        String key = key(t, t.admin.token(), "member");
        String ownersKey = key(t, t.owner.token(), "member");
        String orgPath = "/api/v1/organizations/" + t.org;
        try (TestServer b = TestServer.startOn(server.database(), Map.of())) {
            for (Api node : List.of(api, b.api())) {
                assertThat(node.get(orgPath, key).status()).isEqualTo(200);
            }
            assertThat(api.delete(orgPath + "/members/" + t.admin.userId(), t.owner.token()).status()).isEqualTo(204);
            for (Api node : List.of(api, b.api())) {
                long ms = Eventually.status("removed creator's key", 401, BOUND_MS, () -> node.get(orgPath, key).status());
                System.out.println("removed creator's key refused after " + ms + " ms");
                assertThat(node.get(orgPath, ownersKey).status()).isEqualTo(200);
            }
            assertThat(api.get(t.keys(), t.owner.token()).json().get("data")).hasSize(1);
        }
    }

    @Test
    void keys_minted_while_the_creator_is_demoted_never_keep_the_old_role() throws Exception {
        Team t = team("Race");
        String orgPath = "/api/v1/organizations/" + t.org;
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch firstMinted = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger minted = new java.util.concurrent.atomic.AtomicInteger();
        List<Future<?>> minters = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // Eight clients mint admin keys back to back until refused; the demotion lands mid-stream.
            for (int i = 0; i < 8; i++) {
                minters.add(pool.submit(() -> {
                    start.await();
                    for (int n = 0; n < 40; n++) {
                        int status = api.post(t.keys(), t.admin.token(), Map.of("name", "r", "role", "admin")).status();
                        assertThat(status).isIn(201, 403);
                        if (status == 403) {
                            return null;
                        }
                        minted.incrementAndGet();
                        firstMinted.countDown();
                    }
                    return null;
                }));
            }
            start.countDown();
            firstMinted.await();
            assertThat(api.patch(orgPath + "/members/" + t.admin.userId(), t.owner.token(), Map.of("role", "member"))
                    .status()).isEqualTo(200);
            for (Future<?> f : minters) {
                f.get();
            }
        }
        long above = 0;
        long total = 0;
        String cursor = null;
        do {
            JsonNode page = api.get(t.keys() + "?limit=100" + (cursor == null ? "" : "&cursor=" + cursor),
                    t.owner.token()).json();
            for (JsonNode k : page.get("data")) {
                total++;
                above += k.get("role").asText().equals("admin") ? 1 : 0;
            }
            cursor = page.path("nextCursor").isTextual() ? page.get("nextCursor").asText() : null;
        } while (cursor != null);
        System.out.println("race: " + total + " keys minted, " + above + " still admin");
        assertThat(total).isEqualTo(minted.get()).isPositive();
        assertThat(above).as("keys still admin after their creator became a member").isZero();
    }

    @Test
    void an_expired_key_is_401() {
        Team t = team("Expire");
        String at = Instant.now().plusMillis(1500).truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString();
        var r = api.post(t.keys(), t.admin.token(), Map.of("name", "brief", "role", "viewer", "expiresAt", at));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(Instant.parse(r.json().get("expiresAt").asText())).isEqualTo(Instant.parse(at));
        assertThat(r.header("Cache-Control")).isEqualTo("no-store");
        String key = r.json().get("key").asText();
        String orgPath = "/api/v1/organizations/" + t.org;
        assertThat(api.get(orgPath, key).status()).isEqualTo(200);
        assertThat(Instant.parse(api.get(t.keys(), t.owner.token()).json().get("data").get(0).get("expiresAt").asText()))
                .isEqualTo(Instant.parse(at));
        Eventually.status("expired key", 401, 5_000, () -> api.get(orgPath, key).status());
        var open = api.post(t.keys(), t.admin.token(), Map.of("name", "open", "role", "viewer"));
        assertThat(open.json().get("expiresAt").isNull()).isTrue();
    }

    @Test
    void an_expiry_in_the_past_or_malformed_is_400_and_stores_nothing() {
        Team t = team("Past");
        for (String at : List.of(Instant.now().minusSeconds(60).toString(), "tomorrow", "2030-01-01")) {
            var r = api.post(t.keys(), t.admin.token(), Map.of("name", "late", "role", "viewer", "expiresAt", at));
            assertThat(r.status()).as(r.toString()).isEqualTo(400);
            assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            assertThat(r.text()).contains("expiresAt");
        }
        assertThat(api.get(t.keys(), t.owner.token()).json().get("data")).isEmpty();
    }
}
