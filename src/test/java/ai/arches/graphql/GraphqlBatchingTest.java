package ai.arches.graphql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Test;

/**
 * Organizations with their members and the members' accounts are read in a fixed number of
 * statements, whatever the number of organizations: the members of all of them come from one
 * data loader's one statement. Counted from the pool's own per-statement timers.
 */
class GraphqlBatchingTest extends ServerTest {
    private static final String QUERY = """
            { organizations(limit: 20) { data { id name slug role
                members { data { role joinedAt user { id email name } } nextCursor } } } }""";

    @Override
    protected Map<String, String> overrides() {
        // The executor's fallback poll would add its own statements to the count.
        return Map.of("workflows.poll_interval", "10m");
    }

    /** Statements run so far, by name; background work (runs, embedding, replicas) left out. */
    private Map<String, Long> statements() {
        Map<String, Long> out = new TreeMap<>();
        for (Timer t : server.arches().metrics().registry().find("db.query.duration").timers()) {
            String type = t.getId().getTag("query_type");
            if (type != null && type.contains(".") && !type.startsWith("runs.") && !type.startsWith("embedding.")
                    && !type.startsWith("database.") && !type.startsWith("replica.") && !type.equals("api_keys.last_used")) {
                out.merge(type, t.count(), Long::sum);
            }
        }
        return out;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** Statements the query ran for this caller, measured on its second run (caches warm as in use). */
    private Map<String, Long> statementsFor(Api.Session s, int orgs) {
        JsonNode first = api.post(GraphqlApiTest.PATH, s.token(), Map.of("query", QUERY)).json();
        assertThat(first.has("errors")).as(first.toString()).isFalse();
        assertThat(first.get("data").get("organizations").get("data")).hasSize(orgs);
        Map<String, Long> before = statements();
        JsonNode again = api.post(GraphqlApiTest.PATH, s.token(), Map.of("query", QUERY)).json();
        Map<String, Long> used = delta(before, statements());
        assertThat(again).isEqualTo(first);
        for (JsonNode org : again.get("data").get("organizations").get("data")) {
            assertThat(org.get("members").get("data")).hasSize(3);
            assertThat(org.get("members").get("data").get(0).get("user").get("email").asText()).contains("@");
        }
        return used;
    }

    @Test
    void twenty_organizations_with_members_cost_no_more_statements_than_five() {
        var small = api.newUser("Small");
        var big = api.newUser("Big");
        var alice = api.newUser("Alice");
        var bob = api.newUser("Bob");
        for (int i = 0; i < 5; i++) {
            String org = api.newOrg(small, "small" + i);
            api.addMember(small, org, alice, "member");
            api.addMember(small, org, bob, "viewer");
        }
        for (int i = 0; i < 20; i++) {
            String org = api.newOrg(big, "big" + i);
            api.addMember(big, org, alice, "member");
            api.addMember(big, org, bob, "viewer");
        }

        Map<String, Long> five = statementsFor(small, 5);
        Map<String, Long> twenty = statementsFor(big, 20);
        System.out.println("GraphqlBatchingTest: statements for 5 organizations " + five + ", for 20 " + twenty);
        assertThat(twenty).isEqualTo(five);
        assertThat(twenty).containsEntry("orgs.list", 1L).containsEntry("members.list_many", 1L);
        assertThat(twenty.values().stream().mapToLong(Long::longValue).sum()).isLessThanOrEqualTo(3);
    }
}
