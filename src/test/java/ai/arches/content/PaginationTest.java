package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestDatabases;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class PaginationTest extends ServerTest {

    private String seed(Api.Session s, String org, int n) throws Exception {
        // Bulk rows straight into the table, with many sharing one created_at, so the id tie-break matters.
        try (var c = TestDatabases.superuser(server.database())) {
            c.createStatement().execute("""
                    INSERT INTO content (id, organization_id, title, body, type, mime_type, created_at, updated_at)
                    SELECT gen_random_uuid(), '%s', 'seed ' || g, '', 'document', 'text/plain',
                           now() - ((g / 7) * interval '1 second'), now()
                    FROM generate_series(1, %d) g""".formatted(org, n));
        }
        return "/api/v1/organizations/" + org + "/content";
    }

    @Test
    void a_walk_sees_every_row_once_while_rows_are_being_inserted() throws Exception {
        var s = api.newUser("Walker");
        String org = api.newOrg(s, "walk");
        String base = seed(s, org, 250);
        AtomicBoolean walking = new AtomicBoolean(true);
        try (ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> inserted = writers.submit(() -> {
                int n = 0;
                while (walking.get() && n < 200) {
                    api.post(base, s.token(), Map.of("title", "concurrent " + n, "body", ""));
                    n++;
                }
                return n;
            });
            List<String> seen = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                var r = api.get(base + "?limit=17" + (cursor == null ? "" : "&cursor=" + cursor), s.token());
                assertThat(r.status()).isEqualTo(200);
                for (JsonNode c : r.json().get("data")) {
                    seen.add(c.get("id").asText());
                }
                cursor = r.json().get("nextCursor").isNull() ? null : r.json().get("nextCursor").asText();
                pages++;
            } while (cursor != null && pages < 1000);
            walking.set(false);
            assertThat(inserted.get()).isPositive();
            Set<String> unique = new HashSet<>(seen);
            assertThat(unique).hasSameSizeAs(seen);
            Set<String> seeded = new HashSet<>();
            try (var c = TestDatabases.superuser(server.database());
                 var rs = c.createStatement().executeQuery(
                         "SELECT id FROM content WHERE organization_id = '" + org + "' AND title LIKE 'seed %'")) {
                while (rs.next()) {
                    seeded.add(rs.getString(1));
                }
            }
            assertThat(seeded).hasSize(250);
            assertThat(unique).containsAll(seeded);
        }
    }

    @Test
    void pages_are_ordered_newest_first_and_limit_is_honoured() throws Exception {
        var s = api.newUser("Order");
        String org = api.newOrg(s, "order");
        String base = seed(s, org, 45);
        var first = api.get(base + "?limit=20", s.token()).json();
        assertThat(first.get("data")).hasSize(20);
        assertThat(api.get(base, s.token()).json().get("data")).hasSize(20);
        assertThat(api.get(base + "?limit=100", s.token()).json().get("data")).hasSize(45);
        var all = api.get(base + "?limit=100", s.token()).json().get("data");
        for (int i = 1; i < all.size(); i++) {
            assertThat(all.get(i - 1).get("createdAt").asText().compareTo(all.get(i).get("createdAt").asText()))
                    .isGreaterThanOrEqualTo(0);
        }
        assertThat(api.get(base + "?limit=100", s.token()).json().get("nextCursor").isNull()).isTrue();
    }

    @Test
    void bad_limits_and_tampered_or_foreign_cursors_are_400() throws Exception {
        var s = api.newUser("Tamper");
        String org = api.newOrg(s, "tamper");
        String base = seed(s, org, 30);
        for (String limit : List.of("0", "101", "-1", "abc", "1.5")) {
            assertThat(api.get(base + "?limit=" + limit, s.token()).status()).as(limit).isEqualTo(400);
        }
        String cursor = api.get(base + "?limit=5", s.token()).json().get("nextCursor").asText();
        char[] chars = cursor.toCharArray();
        chars[3] = chars[3] == 'A' ? 'B' : 'A';
        assertThat(api.get(base + "?cursor=" + new String(chars), s.token()).status()).isEqualTo(400);
        assertThat(api.get(base + "?cursor=not-base64!!", s.token()).status()).isEqualTo(400);
        assertThat(api.get(base + "?cursor=" + cursor + "&tag=x", s.token()).status()).isEqualTo(400);
        String otherOrg = api.newOrg(s, "other");
        assertThat(api.get("/api/v1/organizations/" + otherOrg + "/content?cursor=" + cursor, s.token()).status())
                .isEqualTo(400);
        assertThat(api.get(base + "?cursor=" + cursor, s.token()).status()).isEqualTo(200);
    }
}
