package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class HttpBehaviourTest extends ServerTest {

    private String contentPath(Api.Session s) {
        return "/api/v1/organizations/" + api.newOrg(s, "http") + "/content";
    }

    private int contentCount(Api.Session s, String path) {
        return api.get(path + "?limit=100", s.token()).json().get("data").size();
    }

    @Test
    void malformed_json_is_400_problem_and_stores_nothing() {
        var s = api.newUser("Mal");
        String path = contentPath(s);
        var r = api.send("POST", path, s.token(), "application/json",
                "{\"title\": \"x\", \"body\": ".getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.get("type").asText()).startsWith("urn:arches:problem:");
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("status").asInt()).isEqualTo(400);
        assertThat(p.get("detail").asText()).contains("malformed JSON");
        assertThat(contentCount(s, path)).isZero();
    }

    @Test
    void wrong_types_are_400_with_one_error_per_field() {
        var s = api.newUser("Types");
        String path = contentPath(s);
        var r = api.post(path, s.token(), Map.of("title", 5, "body", List.of(), "tags", "x", "metadata", List.of(1)));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText())
                .containsExactlyInAnyOrder("title", "body", "tags", "metadata");
        assertThat(contentCount(s, path)).isZero();
    }

    @Test
    void unknown_fields_and_non_object_bodies_are_400() {
        var s = api.newUser("Unknown");
        String path = contentPath(s);
        var r = api.post(path, s.token(), Map.of("title", "t", "body", "b", "colour", "red"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("colour");
        assertThat(api.post(path, s.token(), "[1,2]").status()).isEqualTo(400);
        assertThat(api.post(path, s.token(), "").status()).isEqualTo(400);
        assertThat(api.post(path, s.token(), "{\"title\":\"a\",\"title\":\"b\",\"body\":\"\"}").status()).isEqualTo(400);
    }

    @Test
    void non_json_content_type_is_415() {
        var s = api.newUser("Media");
        String path = contentPath(s);
        var r = api.send("POST", path, s.token(), "text/plain", "{\"title\":\"t\",\"body\":\"b\"}".getBytes(), Map.of());
        assertThat(r.status()).isEqualTo(415);
        assertThat(api.send("POST", path, s.token(), null, "{}".getBytes(), Map.of()).status()).isEqualTo(415);
        assertThat(contentCount(s, path)).isZero();
    }

    @Test
    void body_over_max_body_is_413_and_stores_nothing() {
        var s = api.newUser("Big");
        String path = contentPath(s);
        String big = "x".repeat(1024 * 1024 + 10);
        var r = api.post(path, s.token(), Map.of("title", "t", "body", big));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().get("status").asInt()).isEqualTo(413);
        assertThat(contentCount(s, path)).isZero();
    }

    @Test
    void chunked_body_over_max_body_is_413() throws Exception {
        var s = api.newUser("Chunked");
        String path = contentPath(s);
        byte[] big = ("{\"title\":\"t\",\"body\":\"" + "y".repeat(1024 * 1024 + 10) + "\"}").getBytes();
        // An InputStream publisher has no known length, so the client sends it chunked.
        HttpRequest req = HttpRequest.newBuilder(URI.create(api.base() + path))
                .header("Authorization", "Bearer " + s.token())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build();
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(contentCount(s, path)).isZero();
    }

    @Test
    void unknown_route_is_404_problem_and_wrong_method_is_405_with_allow() {
        var r = api.get("/api/v1/nothing-here", null);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        var m = api.send("PUT", "/api/v1/users/me", null, "application/json", "{}".getBytes(), Map.of());
        assertThat(m.status()).isEqualTo(405);
        assertThat(m.header("Allow")).contains("GET").contains("PATCH");
    }

    @Test
    void request_id_is_echoed_or_generated_and_quoted_in_problems() {
        var echoed = api.send("GET", "/health", null, null, null, Map.of("X-Request-Id", "abc-123"));
        assertThat(echoed.header("X-Request-Id")).isEqualTo("abc-123");
        var generated = api.get("/health", null);
        assertThat(generated.header("X-Request-Id")).hasSizeGreaterThan(8);
        var forged = api.send("GET", "/api/v1/users/me", null, null, null, Map.of("X-Request-Id", "bad\"id{}"));
        assertThat(forged.header("X-Request-Id")).isNotEqualTo("bad\"id{}");
        assertThat(forged.json().get("requestId").asText()).isEqualTo(forged.header("X-Request-Id"));
    }

    @Test
    void field_selection_on_single_reads_and_lists() {
        var s = api.newUser("Fields");
        String path = contentPath(s);
        String id = api.post(path, s.token(), Map.of("title", "Hello", "body", "World")).json().get("id").asText();
        JsonNode one = api.get(path + "/" + id + "?fields=id,title", s.token()).json();
        assertThat(one.size()).isEqualTo(2);
        assertThat(one.get("title").asText()).isEqualTo("Hello");
        JsonNode list = api.get(path + "?fields=title", s.token()).json();
        assertThat(list.get("data").get(0).size()).isEqualTo(1);
        assertThat(list.has("nextCursor")).isTrue();
        var bad = api.get(path + "?fields=id,secret", s.token());
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("errors").get(0).get("message").asText()).contains("secret");
    }

    @Test
    void large_responses_are_gzipped_when_accepted_small_ones_never() throws IOException {
        var s = api.newUser("Zip");
        String path = contentPath(s);
        for (int i = 0; i < 5; i++) {
            api.post(path, s.token(), Map.of("title", "Doc " + i, "body", "lorem ipsum dolor sit amet ".repeat(20)));
        }
        var zipped = api.send("GET", path, s.token(), null, null, Map.of("Accept-Encoding", "gzip, br;q=0.5"));
        assertThat(zipped.status()).isEqualTo(200);
        assertThat(zipped.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(zipped.header("Vary")).contains("Accept-Encoding");
        byte[] plain = new GZIPInputStream(new ByteArrayInputStream(zipped.bytes())).readAllBytes();
        assertThat(Json.MAPPER.readTree(plain).get("data")).hasSize(5);
        assertThat(zipped.bytes().length).isLessThan(plain.length / 3);

        var identity = api.get(path, s.token());
        assertThat(identity.header("Content-Encoding")).isNull();
        var refused = api.send("GET", path, s.token(), null, null, Map.of("Accept-Encoding", "gzip;q=0"));
        assertThat(refused.header("Content-Encoding")).isNull();
        var small = api.send("GET", "/health", null, null, null, Map.of("Accept-Encoding", "gzip"));
        assertThat(small.header("Content-Encoding")).isNull();
    }

    @Test
    void coding_is_negotiated_by_q_value_with_brotli_winning_ties() {
        Compression c = new Compression();
        assertThat(c.choose("gzip")).isEqualTo("gzip");
        assertThat(c.choose("deflate, gzip;q=0.1")).isEqualTo("gzip");
        assertThat(c.choose("gzip;q=0")).isNull();
        assertThat(c.choose("gzip, br")).isEqualTo("br");
        assertThat(c.choose("gzip;q=1, br;q=0.5")).isEqualTo("gzip");
        assertThat(c.choose("*")).isEqualTo("br");
        assertThat(c.choose("*;q=0, gzip")).isEqualTo("gzip");
        assertThat(c.choose("identity")).isNull();
        assertThat(c.choose(null)).isNull();
    }

    @Test
    void brotli_responses_decode_to_the_same_json() throws IOException {
        var s = api.newUser("Brotli");
        String path = contentPath(s);
        for (int i = 0; i < 5; i++) {
            api.post(path, s.token(), Map.of("title", "Doc " + i, "body", "lorem ipsum dolor sit amet ".repeat(20)));
        }
        var br = api.send("GET", path, s.token(), null, null, Map.of("Accept-Encoding", "br, gzip"));
        assertThat(br.header("Content-Encoding")).isEqualTo("br");
        com.aayushatharva.brotli4j.Brotli4jLoader.ensureAvailability();
        byte[] plain = com.aayushatharva.brotli4j.decoder.Decoder.decompress(br.bytes()).getDecompressedData();
        assertThat(Json.MAPPER.readTree(plain)).isEqualTo(api.get(path, s.token()).json());
    }
}
