package ai.arches.organizations;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

class ApiKeysApiTest extends ServerTest {

    @Test
    void a_key_is_shown_once_and_listed_without_its_secret() {
        var owner = api.newUser("Keys");
        String org = api.newOrg(owner, "keys");
        String path = "/api/v1/organizations/" + org + "/api-keys";
        var created = api.post(path, owner.token(), Map.of("name", "deploy", "role", "member"));
        assertThat(created.status()).isEqualTo(201);
        String key = created.json().get("key").asText();
        assertThat(key).startsWith("ak_");
        assertThat(key.substring(0, 10)).isEqualTo(created.json().get("prefix").asText());
        var list = api.get(path, owner.token());
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.text()).doesNotContain(key);
        assertThat(list.json().get("data").get(0).get("name").asText()).isEqualTo("deploy");
    }

    @Test
    void a_key_acts_with_its_role_in_its_organization_only() {
        var owner = api.newUser("KeyOrg");
        String org = api.newOrg(owner, "scoped");
        String other = api.newOrg(owner, "other");
        String viewerKey = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "reader", "role", "viewer")).json().get("key").asText();
        String content = "/api/v1/organizations/" + org + "/content";
        assertThat(api.get(content, viewerKey).status()).isEqualTo(200);
        assertThat(api.post(content, viewerKey, Map.of("title", "t", "body", "b")).status()).isEqualTo(403);
        // The owner is a member of `other`, but the key is not bound to it.
        assertThat(api.get("/api/v1/organizations/" + other, viewerKey).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/organizations/" + other + "/content", viewerKey).status()).isEqualTo(404);

        String memberKey = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "writer", "role", "member")).json().get("key").asText();
        var made = api.post(content, memberKey, Map.of("title", "by key", "body", "b"));
        assertThat(made.status()).isEqualTo(201);
        assertThat(made.json().get("createdBy").isNull()).isTrue();
        assertThat(api.get("/api/v1/organizations/" + org + "/api-keys", memberKey).status()).isEqualTo(403);
    }

    @Test
    void only_admins_manage_keys_and_nobody_grants_above_their_role() {
        var owner = api.newUser("Own");
        var member = api.newUser("Mem");
        var admin = api.newUser("Adm");
        String org = api.newOrg(owner, "grant");
        api.addMember(owner, org, member, "member");
        api.addMember(owner, org, admin, "admin");
        String path = "/api/v1/organizations/" + org + "/api-keys";
        assertThat(api.post(path, member.token(), Map.of("name", "x", "role", "viewer")).status()).isEqualTo(403);
        assertThat(api.get(path, member.token()).status()).isEqualTo(403);
        assertThat(api.post(path, admin.token(), Map.of("name", "x", "role", "owner")).status()).isEqualTo(400);
        String adminKey = api.post(path, admin.token(), Map.of("name", "x", "role", "admin")).json().get("key").asText();
        assertThat(api.post(path, adminKey, Map.of("name", "y", "role", "viewer")).status()).isEqualTo(201);
        assertThat(api.delete("/api/v1/organizations/" + org, adminKey).status()).isEqualTo(403);
    }

    @Test
    void a_deleted_key_stops_working() {
        var owner = api.newUser("Del");
        String org = api.newOrg(owner, "revoke");
        String path = "/api/v1/organizations/" + org + "/api-keys";
        var created = api.post(path, owner.token(), Map.of("name", "temp", "role", "viewer")).json();
        String key = created.get("key").asText();
        assertThat(api.get("/api/v1/organizations/" + org, key).status()).isEqualTo(200);
        assertThat(api.delete(path + "/" + created.get("id").asText(), owner.token()).status()).isEqualTo(204);
        assertThat(api.get("/api/v1/organizations/" + org, key).status()).isEqualTo(401);
        assertThat(api.delete(path + "/" + created.get("id").asText(), owner.token()).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/organizations/" + org, "ak_not-a-real-key").status()).isEqualTo(401);
    }
}
