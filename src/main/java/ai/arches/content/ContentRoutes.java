package ai.arches.content;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.InvalidInputException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Input;
import ai.arches.http.Json;
import ai.arches.http.JsonIo;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** /organizations/{org}/content: create, list (by tag), read, update and delete documents. */
public final class ContentRoutes {
    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_-]{0,49}$");
    /** type/subtype per RFC 6838 restricted-name characters; stored lower-cased. */
    private static final Pattern MIME_TYPE = Pattern.compile(
            "^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$", Pattern.CASE_INSENSITIVE);
    private static final int MAX_TITLE = 500;
    private static final int MAX_BODY = 1_000_000;
    private static final int MAX_TAGS = 50;
    private static final int MAX_TAG = 64;

    private final Contents contents;
    private final OrgGuard orgGuard;
    private final JsonIo io;

    public ContentRoutes(Contents contents, OrgGuard orgGuard, JsonIo io) {
        this.contents = contents;
        this.orgGuard = orgGuard;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        String list = base + "/organizations/{org}/content";
        r.post(list, orgGuard.at(Role.MEMBER, this::create));
        r.get(list, orgGuard.at(Role.VIEWER, this::list));
        r.get(list + "/{id}", orgGuard.at(Role.VIEWER, this::get));
        r.patch(list + "/{id}", orgGuard.at(Role.MEMBER, this::update));
        r.delete(list + "/{id}", orgGuard.at(Role.MEMBER, this::delete));
        r.post(list + "/{id}/embed", orgGuard.at(Role.MEMBER, this::embed));
    }

    private void create(Access access, ServerRequest req, ServerResponse res) {
        Content c = contents.create(access, draft(io.readInput(req)));
        res.header(HeaderNames.LOCATION, "/api/v1/organizations/" + c.organizationId() + "/content/" + c.id());
        io.send(req, res, Status.CREATED_201, c, Content.FIELDS);
    }

    /** A new document's fields, checked (400 with every problem); GraphQL's createContent reads the same. */
    static Contents.Draft draft(Input in) {
        String title = in.requiredString("title", 1, MAX_TITLE);
        String body = in.requiredText("body", 0, MAX_BODY);
        String type = in.optionalString("type", 1, 50, TYPE).orElse("document");
        String mimeType = mimeType(in).orElse("text/plain");
        List<String> tags = in.optionalStringList("tags", MAX_TAGS, MAX_TAG).orElse(List.of());
        ObjectNode metadata = in.optionalObject("metadata").orElseGet(Json.MAPPER::createObjectNode);
        in.validate();
        return new Contents.Draft(title, body, type, mimeType, tags, metadata);
    }

    private void list(Access access, ServerRequest req, ServerResponse res) {
        Optional<String> tag = req.query().first("tag").asOptional().map(ContentRoutes::tag);
        // Whole bodies only on request: a page of summaries is small whatever the documents' size.
        var fields = JsonIo.fields(req, ContentSummary.FIELDS);
        boolean withBody = fields != null && fields.contains("body");
        io.send(req, res, Status.OK_200, contents.list(access, tag, withBody, req.query().first("limit").orElse(null),
                req.query().first("cursor").orElse(null)), ContentSummary.FIELDS);
    }

    private void get(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, contents.get(access, pathId(req)), Content.FIELDS);
    }

    private void update(Access access, ServerRequest req, ServerResponse res) {
        UUID id = pathId(req);
        io.send(req, res, Status.OK_200, contents.update(access, id, changes(io.readInput(req))), Content.FIELDS);
    }

    /** A partial update, checked; at least one field. GraphQL's updateContent reads the same. */
    static Contents.Changes changes(Input in) {
        in.requireAnyOf("title", "body", "type", "mimeType", "tags", "metadata");
        var changes = new Contents.Changes(
                in.optionalString("title", 1, MAX_TITLE),
                in.optionalText("body", 0, MAX_BODY),
                in.optionalString("type", 1, 50, TYPE),
                mimeType(in),
                in.optionalStringList("tags", MAX_TAGS, MAX_TAG),
                in.optionalObject("metadata"));
        in.validate();
        return changes;
    }

    private void delete(Access access, ServerRequest req, ServerResponse res) {
        contents.delete(access, pathId(req));
        res.status(Status.NO_CONTENT_204).send();
    }

    /** Re-queues the document for embedding (after a failure, or to re-embed it): 202, work is queued. */
    private void embed(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.ACCEPTED_202, contents.requeue(access, pathId(req)), Content.FIELDS);
    }

    private static Optional<String> mimeType(Input in) {
        return in.optionalString("mimeType", 3, 129, MIME_TYPE).map(m -> m.toLowerCase(Locale.ROOT));
    }

    /** The ?tag= filter, held to the same rules as a stored tag. */
    static String tag(String raw) {
        String t = raw.strip();
        if (t.isEmpty()) {
            throw badTag("must not be empty");
        }
        if (t.codePointCount(0, t.length()) > MAX_TAG || t.indexOf('\u0000') >= 0) {
            throw badTag("must be at most " + MAX_TAG + " characters, without NUL");
        }
        return t;
    }

    private static InvalidInputException badTag(String message) {
        return new InvalidInputException("tag " + message, List.of(new FieldError("tag", message)));
    }

    private static UUID pathId(ServerRequest req) {
        return Ids.parse(req.path().pathParameters().get("id")).orElseThrow(Contents::notFound);
    }
}
