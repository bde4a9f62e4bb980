package ai.arches.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

/** Cache-aside reads on one node against the local Redis: hits, coalesced misses, absent rows. */
class CachingTest extends ServerTest {

    private String[] doc(String name) {
        var s = api.newUser(name);
        String org = api.newOrg(s, "cache");
        String id = api.post("/api/v1/organizations/" + org + "/content", s.token(),
                Map.of("title", "cached", "body", "text")).json().get("id").asText();
        return new String[] {s.token(), "/api/v1/organizations/" + org + "/content/" + id, org};
    }

    @Test
    void repeated_reads_are_served_without_the_database() {
        String[] d = doc("Repeat");
        api.get(d[1], d[0]);
        double before = Metrics.queries(api, "content.get") + Metrics.queries(api, "orgs.get")
                + Metrics.queries(api, "members.role");
        for (int i = 0; i < 20; i++) {
            assertThat(api.get(d[1], d[0]).json().get("title").asText()).isEqualTo("cached");
        }
        double after = Metrics.queries(api, "content.get") + Metrics.queries(api, "orgs.get")
                + Metrics.queries(api, "members.role");
        assertThat(after - before).isZero();
        assertThat(Metrics.value(api, "cache_gets_total", "result=\"hit\"")).isPositive();
    }

    @Test
    void concurrent_misses_on_one_key_cause_one_database_load() throws Exception {
        var s = api.newUser("Stampede");
        String org = api.newOrg(s, "stampede");
        String base = "/api/v1/organizations/" + org + "/content";
        String id = api.post(base, s.token(), Map.of("title", "hot", "body", "x")).json().get("id").asText();
        // A row written straight into the table is in no cache yet.
        String fresh = UUID.randomUUID().toString();
        try (var c = ai.arches.testing.TestDatabases.superuser(server.database())) {
            c.createStatement().execute("INSERT INTO content (id, organization_id, title, body, type, mime_type, "
                    + "created_at, updated_at) VALUES ('" + fresh + "', '" + org + "', 'cold', '', 'document', "
                    + "'text/plain', now(), now())");
        }
        api.get(base + "/" + id, s.token());
        double before = Metrics.queries(api, "content.get");
        List<Callable<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add(() -> api.get(base + "/" + fresh, s.token()).status());
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<Integer> f : pool.invokeAll(calls)) {
                assertThat(f.get()).isEqualTo(200);
            }
        }
        assertThat(Metrics.queries(api, "content.get") - before).isEqualTo(1.0);
    }

    @Test
    void floods_of_unknown_ids_reach_the_database_once() {
        String[] d = doc("Absent");
        String missing = "/api/v1/organizations/" + d[2] + "/content/" + UUID.randomUUID();
        double before = Metrics.queries(api, "content.get");
        for (int i = 0; i < 30; i++) {
            assertThat(api.get(missing, d[0]).status()).isEqualTo(404);
        }
        assertThat(Metrics.queries(api, "content.get") - before).isEqualTo(1.0);
    }

    @Test
    void writes_are_seen_by_the_next_read() {
        String[] d = doc("Write");
        api.get(d[1], d[0]);
        api.patch(d[1], d[0], Map.of("title", "changed"));
        assertThat(api.get(d[1], d[0]).json().get("title").asText()).isEqualTo("changed");
        String list = d[1].substring(0, d[1].lastIndexOf('/'));
        assertThat(api.get(list, d[0]).json().get("data").get(0).get("title").asText()).isEqualTo("changed");
        api.post(list, d[0], Map.of("title", "second", "body", ""));
        assertThat(api.get(list, d[0]).json().get("data")).hasSize(2);
        api.delete(d[1], d[0]);
        assertThat(api.get(d[1], d[0]).status()).isEqualTo(404);
        assertThat(api.get(list, d[0]).json().get("data")).hasSize(1);
    }

    @Test
    void a_cached_document_is_never_served_to_another_organization() {
        String[] d = doc("Tenant");
        assertThat(api.get(d[1], d[0]).status()).isEqualTo(200);
        var other = api.newUser("Other");
        String otherOrg = api.newOrg(other, "other");
        String id = d[1].substring(d[1].lastIndexOf('/') + 1);
        assertThat(api.get("/api/v1/organizations/" + otherOrg + "/content/" + id, other.token()).status()).isEqualTo(404);
        assertThat(api.get(d[1], other.token()).status()).isEqualTo(404);
    }

    @Test
    void membership_changes_take_effect_at_once() {
        var owner = api.newUser("Owner");
        var member = api.newUser("Member");
        String org = api.newOrg(owner, "members");
        api.addMember(owner, org, member, "member");
        String base = "/api/v1/organizations/" + org;
        assertThat(api.post(base + "/content", member.token(), Map.of("title", "t", "body", "")).status()).isEqualTo(201);
        api.patch(base + "/members/" + member.userId(), owner.token(), Map.of("role", "viewer"));
        assertThat(api.post(base + "/content", member.token(), Map.of("title", "t", "body", "")).status()).isEqualTo(403);
        api.delete(base + "/members/" + member.userId(), owner.token());
        assertThat(api.get(base, member.token()).status()).isEqualTo(404);
    }

    @Test
    void ttl_jitter_stays_within_ten_percent() {
        for (int i = 0; i < 1000; i++) {
            assertThat(TieredCache.jitter(60_000)).isBetween(54_000L, 66_000L);
        }
        assertThat(TieredCache.jitter(5)).isEqualTo(5);
    }
}
