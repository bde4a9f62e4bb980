package ai.arches.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A small HTTP client for tests. Every response is checked against the OpenAPI document (the
 * status must be documented for the operation and the body must match its schema), so each
 * test that calls the API also tests the contract.
 */
public final class Api {
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final String base;
    private boolean checkContract = true;

    public Api(String base) {
        this.base = base;
    }

    public String base() {
        return base;
    }

    /** For tests that deliberately send what the contract does not describe. */
    public Api withoutContractCheck() {
        Api a = new Api(base);
        a.checkContract = false;
        return a;
    }

    public record Response(int status, java.net.http.HttpHeaders headers, byte[] bytes, String method, String path) {
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + text(), e);
            }
        }

        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return method + " " + path + " -> " + status + " " + text();
        }
    }

    public Response get(String path, String token) {
        return send("GET", path, token, null, null, Map.of());
    }

    public Response delete(String path, String token) {
        return send("DELETE", path, token, null, null, Map.of());
    }

    public Response post(String path, String token, Object body) {
        return send("POST", path, token, "application/json", json(body), Map.of());
    }

    public Response patch(String path, String token, Object body) {
        return send("PATCH", path, token, "application/json", json(body), Map.of());
    }

    public Response send(String method, String path, String token, String contentType, byte[] body,
                         Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        headers.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        try {
            HttpResponse<byte[]> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            Response resp = new Response(r.statusCode(), r.headers(), r.body(), method, path);
            if (checkContract && !headers.containsKey("Accept-Encoding")) {
                OpenApiContract.check(resp);
            }
            return resp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ---- conveniences for building scenarios ----

    /** Registers a user with a unique email and logs in; returns the session. */
    public Session newUser(String name) {
        String email = name.toLowerCase().replaceAll("[^a-z0-9]", "") + "-" + UUID.randomUUID().toString().substring(0, 8)
                + "@example.com";
        Response reg = post("/api/v1/auth/register", null, Map.of("email", email, "name", name, "password", "correct horse"));
        if (reg.status() != 201) {
            throw new AssertionError(reg.toString());
        }
        return login(email, "correct horse", reg.json().get("id").asText());
    }

    public Session login(String email, String password, String userId) {
        Response login = post("/api/v1/auth/login", null, Map.of("email", email, "password", password));
        if (login.status() != 200) {
            throw new AssertionError(login.toString());
        }
        return new Session(userId, email, login.json().get("accessToken").asText(),
                login.json().get("refreshToken").asText());
    }

    /** Creates an organization owned by the session's user; returns its id. */
    public String newOrg(Session owner, String slugPrefix) {
        String slug = slugPrefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Response r = post("/api/v1/organizations", owner.token(), Map.of("name", slugPrefix, "slug", slug));
        if (r.status() != 201) {
            throw new AssertionError(r.toString());
        }
        return r.json().get("id").asText();
    }

    /** Adds a user to an organization with a role (as an owner/admin session). */
    public void addMember(Session admin, String org, Session user, String role) {
        Response r = post("/api/v1/organizations/" + org + "/members", admin.token(),
                Map.of("email", user.email(), "role", role));
        if (r.status() != 201) {
            throw new AssertionError(r.toString());
        }
    }

    public record Session(String userId, String email, String token, String refreshToken) {}

    public static byte[] json(Object body) {
        if (body == null) {
            return null;
        }
        if (body instanceof String s) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
