package ai.arches.organizations;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

class OrganizationsApiTest extends ServerTest {

    private static String slug(String p) {
        return p + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void creator_becomes_owner_and_the_org_is_found_by_id_and_slug() {
        var s = api.newUser("Owner");
        String slug = slug("acme");
        var r = api.post("/api/v1/organizations", s.token(), Map.of("name", "Acme", "slug", slug));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().get("role").asText()).isEqualTo("owner");
        String id = r.json().get("id").asText();
        assertThat(r.header("Location")).endsWith("/organizations/" + id);
        assertThat(api.get("/api/v1/organizations/" + id, s.token()).json().get("slug").asText()).isEqualTo(slug);
        assertThat(api.get("/api/v1/organizations/" + slug, s.token()).json().get("id").asText()).isEqualTo(id);
        var members = api.get("/api/v1/organizations/" + id + "/members", s.token()).json().get("data");
        assertThat(members).hasSize(1);
        assertThat(members.get(0).get("role").asText()).isEqualTo("owner");
    }

    @Test
    void duplicate_slug_is_409_and_bad_slugs_are_400() {
        var s = api.newUser("Slugger");
        String slug = slug("dup");
        assertThat(api.post("/api/v1/organizations", s.token(), Map.of("name", "A", "slug", slug)).status()).isEqualTo(201);
        assertThat(api.post("/api/v1/organizations", s.token(), Map.of("name", "B", "slug", slug)).status()).isEqualTo(409);
        assertThat(api.post("/api/v1/organizations", s.token(), Map.of("name", "C", "slug", "Not Valid")).status())
                .isEqualTo(400);
        assertThat(api.post("/api/v1/organizations", s.token(),
                Map.of("name", "D", "slug", UUID.randomUUID().toString())).status()).isEqualTo(400);
    }

    @Test
    void list_shows_only_the_callers_organizations() {
        var a = api.newUser("ListA");
        var b = api.newUser("ListB");
        String mine = api.newOrg(a, "mine");
        api.newOrg(b, "theirs");
        var list = api.get("/api/v1/organizations", a.token()).json().get("data");
        assertThat(list).extracting(o -> o.get("id").asText()).containsExactly(mine);
    }

    @Test
    void patch_needs_admin_and_delete_needs_owner() {
        var owner = api.newUser("O");
        var admin = api.newUser("A");
        var member = api.newUser("M");
        String org = api.newOrg(owner, "roles");
        api.addMember(owner, org, admin, "admin");
        api.addMember(owner, org, member, "member");
        String path = "/api/v1/organizations/" + org;
        assertThat(api.patch(path, member.token(), Map.of("name", "X")).status()).isEqualTo(403);
        var renamed = api.patch(path, admin.token(), Map.of("name", "Renamed"));
        assertThat(renamed.status()).isEqualTo(200);
        assertThat(renamed.json().get("name").asText()).isEqualTo("Renamed");
        assertThat(api.delete(path, admin.token()).status()).isEqualTo(403);
        assertThat(api.delete(path, owner.token()).status()).isEqualTo(204);
        assertThat(api.get(path, owner.token()).status()).isEqualTo(404);
    }

    @Test
    void patch_to_a_taken_slug_is_409() {
        var s = api.newUser("Clash");
        String taken = slug("taken");
        api.post("/api/v1/organizations", s.token(), Map.of("name", "T", "slug", taken));
        String other = api.newOrg(s, "other");
        assertThat(api.patch("/api/v1/organizations/" + other, s.token(), Map.of("slug", taken)).status()).isEqualTo(409);
    }

    @Test
    void non_members_get_404_never_403() {
        var owner = api.newUser("Own");
        var stranger = api.newUser("Stranger");
        String org = api.newOrg(owner, "private");
        String path = "/api/v1/organizations/" + org;
        assertThat(api.get(path, stranger.token()).status()).isEqualTo(404);
        assertThat(api.patch(path, stranger.token(), Map.of("name", "x")).status()).isEqualTo(404);
        assertThat(api.delete(path, stranger.token()).status()).isEqualTo(404);
        assertThat(api.get(path + "/members", stranger.token()).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/organizations/no-such-org", stranger.token()).status()).isEqualTo(404);
    }

    @Test
    void admins_manage_members_but_cannot_grant_or_touch_owner() {
        var owner = api.newUser("Boss");
        var admin = api.newUser("Adm");
        var user = api.newUser("Usr");
        var viewer = api.newUser("View");
        String org = api.newOrg(owner, "team");
        String members = "/api/v1/organizations/" + org + "/members";
        api.addMember(owner, org, admin, "admin");
        assertThat(api.post(members, admin.token(), Map.of("email", user.email(), "role", "owner")).status()).isEqualTo(403);
        assertThat(api.post(members, admin.token(), Map.of("email", user.email(), "role", "member")).status()).isEqualTo(201);
        assertThat(api.post(members, admin.token(), Map.of("email", user.email(), "role", "member")).status()).isEqualTo(409);
        assertThat(api.post(members, admin.token(), Map.of("email", "nobody-" + UUID.randomUUID() + "@example.com",
                "role", "member")).status()).isEqualTo(422);
        assertThat(api.post(members, admin.token(), Map.of("email", viewer.email(), "role", "boss")).status()).isEqualTo(400);
        api.addMember(owner, org, viewer, "viewer");
        assertThat(api.post(members, viewer.token(), Map.of("email", "x@example.com", "role", "viewer")).status())
                .isEqualTo(403);
        assertThat(api.patch(members + "/" + owner.userId(), admin.token(), Map.of("role", "member")).status())
                .isEqualTo(403);
        assertThat(api.delete(members + "/" + owner.userId(), admin.token()).status()).isEqualTo(403);
        var promoted = api.patch(members + "/" + user.userId(), admin.token(), Map.of("role", "admin"));
        assertThat(promoted.status()).isEqualTo(200);
        assertThat(promoted.json().get("role").asText()).isEqualTo("admin");
        assertThat(api.delete(members + "/" + user.userId(), admin.token()).status()).isEqualTo(204);
        assertThat(api.get("/api/v1/organizations/" + org, user.token()).status()).isEqualTo(404);
        assertThat(api.patch(members + "/" + UUID.randomUUID(), admin.token(), Map.of("role", "member")).status())
                .isEqualTo(404);
    }

    @Test
    void the_last_owner_cannot_be_demoted_or_removed_or_leave() {
        var owner = api.newUser("Last");
        String org = api.newOrg(owner, "last");
        String me = "/api/v1/organizations/" + org + "/members/" + owner.userId();
        assertThat(api.patch(me, owner.token(), Map.of("role", "admin")).status()).isEqualTo(409);
        assertThat(api.delete(me, owner.token()).status()).isEqualTo(409);
        var second = api.newUser("Second");
        api.addMember(owner, org, second, "owner");
        assertThat(api.patch(me, owner.token(), Map.of("role", "admin")).status()).isEqualTo(200);
        assertThat(api.delete("/api/v1/organizations/" + org + "/members/" + second.userId(), second.token()).status())
                .isEqualTo(409);
    }

    @Test
    void members_may_leave_on_their_own() {
        var owner = api.newUser("Keeper");
        var member = api.newUser("Leaver");
        String org = api.newOrg(owner, "leave");
        api.addMember(owner, org, member, "viewer");
        assertThat(api.delete("/api/v1/organizations/" + org + "/members/" + member.userId(), member.token()).status())
                .isEqualTo(204);
        assertThat(api.get("/api/v1/organizations/" + org, member.token()).status()).isEqualTo(404);
    }

    @Test
    void two_owners_demoting_each_other_at_once_leave_one_owner() throws Exception {
        for (int round = 0; round < 5; round++) {
            var a = api.newUser("Alice");
            var b = api.newUser("Bob");
            String org = api.newOrg(a, "race");
            api.addMember(a, org, b, "owner");
            String base = "/api/v1/organizations/" + org + "/members/";
            List<Callable<Integer>> calls = List.of(
                    () -> api.patch(base + b.userId(), a.token(), Map.of("role", "member")).status(),
                    () -> api.patch(base + a.userId(), b.token(), Map.of("role", "member")).status());
            List<Integer> statuses = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (Future<Integer> f : pool.invokeAll(calls)) {
                    statuses.add(f.get());
                }
            }
            // Whatever the interleaving, the organization keeps an owner.
            var members = api.get("/api/v1/organizations/" + org + "/members", a.token());
            long owners = 0;
            if (members.status() == 200) {
                for (var m : members.json().get("data")) {
                    owners += m.get("role").asText().equals("owner") ? 1 : 0;
                }
            } else {
                var viaB = api.get("/api/v1/organizations/" + org + "/members", b.token()).json().get("data");
                for (var m : viaB) {
                    owners += m.get("role").asText().equals("owner") ? 1 : 0;
                }
            }
            assertThat(owners).as("owners after %s", statuses).isEqualTo(1);
            assertThat(statuses).contains(200);
        }
    }

    @Test
    void api_keys_cannot_create_organizations_or_use_user_endpoints() {
        var owner = api.newUser("KeyOwner");
        String org = api.newOrg(owner, "keys");
        String key = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "ci", "role", "admin")).json().get("key").asText();
        assertThat(api.post("/api/v1/organizations", key, Map.of("name", "N", "slug", slug("n"))).status()).isEqualTo(403);
        assertThat(api.get("/api/v1/users/me", key).status()).isEqualTo(403);
        var list = api.get("/api/v1/organizations", key).json().get("data");
        assertThat(list).extracting(o -> o.get("id").asText()).containsExactly(org);
    }
}
