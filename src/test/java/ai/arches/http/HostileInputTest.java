package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

/**
 * Generated hostile and malformed input at volume against every route that takes a body or
 * query parameters. Whatever arrives, the server answers with a documented 4xx problem (the
 * contract check in {@link Api} verifies status and schema), never a 5xx, and keeps serving.
 */
class HostileInputTest extends ServerTest {
    private static final long SEED = Long.getLong("hostile.seed", System.nanoTime());
    private static final int BODIES_PER_ROUTE = Integer.getInteger("hostile.perRoute", 150);
    private static final Set<Integer> ALLOWED = Set.of(200, 201, 202, 204, 400, 401, 403, 404, 409, 413, 415, 422);

    private final Random random = new Random(SEED);

    private String value(int depth) {
        return switch (random.nextInt(depth > 3 ? 9 : 12)) {
            case 0 -> "null";
            case 1 -> Long.toString(random.nextLong());
            case 2 -> "1e" + random.nextInt(100000);
            case 3 -> random.nextBoolean() ? "true" : "false";
            case 4 -> quote(randomString(random.nextInt(40)));
            case 5 -> quote("x".repeat(random.nextInt(3000)));
            case 6 -> "\"\\u0000\\ud800" + random.nextInt() + "\"";
            case 7 -> quote("a@b.c");
            case 8 -> "-0.0000000001";
            case 9 -> "[" + value(depth + 1) + "," + value(depth + 1) + "]";
            case 10 -> object(depth + 1);
            default -> "[".repeat(1200) + "]".repeat(1200);
        };
    }

    private static final String[] FIELDS = {"title", "body", "type", "mimeType", "tags", "metadata", "name", "slug",
        "email", "password", "role", "definition", "nodes", "edges", "id", "from", "to", "status", "description",
        "refreshToken", "config", "tool", "__proto__", ""};

    private String object(int depth) {
        StringBuilder sb = new StringBuilder("{");
        int n = random.nextInt(6);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(quote(FIELDS[random.nextInt(FIELDS.length)])).append(':').append(value(depth));
        }
        return sb.append('}').toString();
    }

    private String randomString(int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.appendCodePoint(switch (random.nextInt(4)) {
                case 0 -> 0x20 + random.nextInt(0x5f);
                case 1 -> random.nextInt(0x20);
                case 2 -> 0x80 + random.nextInt(0x800);
                default -> 0x1F600 + random.nextInt(0x40);
            });
        }
        return sb.toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private byte[] body() {
        String s = switch (random.nextInt(6)) {
            case 0 -> object(0);
            case 1 -> {
                String o = object(0);
                yield o.substring(0, random.nextInt(o.length() + 1));
            }
            case 2 -> value(0);
            case 3 -> {
                byte[] b = new byte[random.nextInt(200)];
                random.nextBytes(b);
                yield new String(b, StandardCharsets.ISO_8859_1);
            }
            case 4 -> "{\"name\":\"a\",\"name\":\"b\"}";
            default -> object(0) + " trailing";
        };
        return s.getBytes(random.nextInt(10) == 0 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    @Test
    void generated_bodies_and_parameters_never_cause_a_server_error() {
        var owner = api.newUser("Fuzz");
        String org = api.newOrg(owner, "fuzz");
        String base = "/api/v1/organizations/" + org;
        String content = api.post(base + "/content", owner.token(), Map.of("title", "t", "body", "b")).json().get("id").asText();
        String workflow = api.post(base + "/workflows", owner.token(), Map.of("name", "w", "definition",
                Map.of("nodes", List.of(Map.of("id", "a", "type", "t"))))).json().get("id").asText();
        String run = api.post(base + "/workflows/" + workflow + "/runs", owner.token(), Map.of()).json().get("id").asText();
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("{org}", org);
        ids.put("{userId}", owner.userId());
        List<String> failures = new ArrayList<>();
        int requests = 0;
        for (var route : server.arches().routes()) {
            String path = route.template().replace("{org}", org).replace("{userId}", owner.userId())
                    .replace("{id}", route.template().contains("/workflows") ? workflow : content)
                    .replace("{keyId}", "00000000-0000-7000-8000-000000000000").replace("{runId}", run);
            if (path.contains("/logout") || route.method().equals("DELETE")) {
                continue;
            }
            boolean takesBody = route.method().equals("POST") || route.method().equals("PATCH");
            for (int i = 0; i < BODIES_PER_ROUTE; i++) {
                Api.Response r;
                if (takesBody) {
                    r = api.send(route.method(), path, owner.token(), "application/json", body(), Map.of());
                } else {
                    String v = value(3);
                    String q = "?limit=" + enc(v.substring(0, Math.min(v.length(), 200))) + "&cursor=" + enc(randomString(30)) + "&fields="
                            + enc(random.nextBoolean() ? "id,title" : randomString(8)) + "&tag=" + enc(randomString(5))
                            + "&status=" + enc(randomString(4));
                    r = api.send(route.method(), path + q, owner.token(), null, null, Map.of());
                }
                requests++;
                if (!ALLOWED.contains(r.status())) {
                    failures.add(r.toString());
                }
            }
        }
        for (int i = 0; i < 200; i++) {
            var r = api.send("GET", "/api/v1/users/me", null, null, null, Map.of("Authorization", "Bearer " + randomString(50)
                    .replaceAll("[\\x00-\\x1f\\x7f-\\x{10FFFF}]", "x")));
            requests++;
            if (r.status() != 401) {
                failures.add(r.toString());
            }
        }
        assertThat(failures).as("seed %d, %d requests", SEED, requests).isEmpty();
        assertThat(requests).isGreaterThan(3000);
        assertThat(api.get("/health", null).status()).isEqualTo(200);
        assertThat(api.get(base + "/content/" + content, owner.token()).json().get("title").asText()).isNotNull();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
