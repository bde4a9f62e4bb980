package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Test;

/** An API key's last use is written in the background, once per interval, not per request. */
class ApiKeyLastUsedTest extends ServerTest {
    @Override
    protected Map<String, String> overrides() {
        return Map.of("auth.api_key_last_used_interval", "200ms");
    }

    private record Key(Api.Session owner, String keys, String secret, String content) {}

    private Key newKey(String name) {
        var owner = api.newUser(name);
        String org = api.newOrg(owner, "keys");
        String keys = "/api/v1/organizations/" + org + "/api-keys";
        String secret = api.post(keys, owner.token(), Map.of("name", "ci", "role", "viewer")).json().get("key").asText();
        return new Key(owner, keys, secret, "/api/v1/organizations/" + org + "/content");
    }

    /** The key's lastUsedAt as listed (read from PostgreSQL, not from any node's memory). */
    private JsonNode lastUsed(Key k) {
        return api.get(k.keys(), k.owner().token()).json().get("data").get(0).get("lastUsedAt");
    }

    private static boolean isSet(JsonNode n) {
        return n != null && !n.isNull();
    }

    @Test
    void last_use_becomes_visible_after_the_interval() {
        Key k = newKey("Visible");
        assertThat(isSet(lastUsed(k))).isFalse();
        assertThat(api.get(k.content(), k.secret()).status()).isEqualTo(200);
        Eventually.status("lastUsedAt written", 1, 5_000, () -> isSet(lastUsed(k)) ? 1 : 0);
    }

    @Test
    void many_requests_make_one_write_and_closing_flushes_it() {
        Key k = newKey("Coalesced");
        // A second node whose interval never comes during the test: only its close writes.
        TestServer node = TestServer.startOn(server.database(), Map.of("auth.api_key_last_used_interval", "1h"));
        Timer writes;
        try {
            for (int i = 0; i < 50; i++) {
                assertThat(node.api().get(k.content(), k.secret()).status()).isEqualTo(200);
            }
            assertThat(writeCount(node)).isZero();
            assertThat(isSet(lastUsed(k))).as("no request wrote last_used_at").isFalse();
        } finally {
            node.close();
        }
        writes = node.arches().metrics().registry().find("db.query.duration")
                .tag("query_type", "api_keys.last_used").timer();
        assertThat(writes).isNotNull();
        assertThat(writes.count()).as("statements for 50 requests").isEqualTo(1);
        assertThat(isSet(lastUsed(k))).isTrue();
    }

    private static long writeCount(TestServer node) {
        Timer t = node.arches().metrics().registry().find("db.query.duration")
                .tag("query_type", "api_keys.last_used").timer();
        return t == null ? 0 : t.count();
    }
}
