package ai.arches.workflows.tools;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.content.Content;
import ai.arches.content.Contents;
import ai.arches.http.Input;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code create-content}: writes a document into the run's organization, held to the rules of
 * {@code POST .../content} (the bounds below mirror ContentRoutes', which are private there).
 * Idempotent per (run, node): the id is derived from both, so an attempt repeated after a crash
 * or a retry returns the document the first one wrote. Its metadata names the run and node
 * under {@code workflowRun}, over any {@code workflowRun} the config gave.
 */
final class CreateContentTool implements Tool {
    static final int MAX_TITLE = 500;
    static final int MAX_BODY = 1_000_000;
    static final int MAX_TAGS = 50;
    static final int MAX_TAG = 64;
    /** Metadata has no own bound in the API (the request body bounds it); a step's config has none. */
    static final int MAX_METADATA_BYTES = 256 * 1024;
    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_-]{0,49}$");
    private static final Pattern MIME_TYPE = Pattern.compile(
            "^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$", Pattern.CASE_INSENSITIVE);

    private final Contents contents;
    private final ObjectMapper json;

    CreateContentTool(Contents contents, ObjectMapper json) {
        this.contents = contents;
        this.json = json;
    }

    @Override
    public String name() {
        return "create-content";
    }

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        draft(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) {
        Args a = Args.run(call.config());
        Contents.Draft d = draft(a);
        a.done();
        if (!call.access().role().atLeast(Role.MEMBER)) {
            throw new ToolException("creating content needs the member role or higher; the run acts as "
                    + call.access().role().wire());
        }
        ObjectNode metadata = d.metadata() == null ? json.createObjectNode() : d.metadata().deepCopy();
        metadata.putObject("workflowRun").put("runId", call.runId().toString()).put("nodeId", call.nodeId());
        Content c = contents.createOnce(call.access(), id(call.runId(), call.nodeId()),
                new Contents.Draft(d.title(), d.body(), d.type(), d.mimeType(), d.tags(), metadata));
        return json.createObjectNode().put("id", c.id().toString()).put("title", c.title());
    }

    /** The document id of a (run, node): the same on every attempt, different for every pair. */
    static UUID id(UUID runId, String nodeId) {
        return UUID.nameUUIDFromBytes(("run:" + runId + ":" + nodeId).getBytes(StandardCharsets.UTF_8));
    }

    private Contents.Draft draft(Args a) {
        String title = a.string("title", true, MAX_TITLE);
        String body = a.string("body", true, 0, MAX_BODY, true);
        String type = matching(a, "type", a.string("type", false, 1, 50, false), TYPE);
        String mime = matching(a, "mimeType", a.string("mimeType", false, 3, 129, false), MIME_TYPE);
        List<String> tags = a.strings("tags", MAX_TAGS, MAX_TAG);
        ObjectNode metadata = a.object("metadata");
        if (metadata != null) {
            if (Input.containsNul(metadata)) {
                a.problem("metadata", "must not contain NUL characters (PostgreSQL cannot store them)");
            } else if (bytes(metadata) > MAX_METADATA_BYTES) {
                a.problem("metadata", "must be at most " + MAX_METADATA_BYTES + " bytes as JSON");
            }
        }
        return new Contents.Draft(title, body, type == null ? "document" : type,
                mime == null ? "text/plain" : mime.toLowerCase(Locale.ROOT), tags == null ? List.of() : tags, metadata);
    }

    private static String matching(Args a, String key, String value, Pattern pattern) {
        if (value != null && !pattern.matcher(value).matches()) {
            a.problem(key, "must match " + pattern.pattern());
            return null;
        }
        return value;
    }

    private long bytes(ObjectNode n) {
        try {
            return json.writeValueAsBytes(n).length;
        } catch (JsonProcessingException e) {
            throw new ToolException("config.metadata cannot be written as JSON", e);
        }
    }
}
