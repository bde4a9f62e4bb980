package ai.arches.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import ai.arches.http.ApiRouter;
import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

/**
 * The OpenAPI document as a test oracle. {@link #check} finds the operation a response answers,
 * demands that its status be documented, and validates the body against the documented schema
 * (JSON Schema 2020-12, which OpenAPI 3.1 uses). Responses shaped by {@code ?fields=} are checked
 * for status only, since they are projections.
 */
public final class OpenApiContract {
    public static final JsonNode DOC = load();
    private static final JsonNode DEFS = rewriteRefs(DOC.path("components").path("schemas").deepCopy());
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

    private record Op(String method, String template, Pattern pattern, JsonNode node) {}

    private static final List<Op> OPS = operations();

    private OpenApiContract() {}

    /** (METHOD, template) pairs the document describes. */
    public static Set<String> documentedRoutes() {
        Set<String> out = new java.util.TreeSet<>();
        for (Op op : OPS) {
            out.add(op.method() + " " + op.template());
        }
        return out;
    }

    public static void check(Api.Response r) {
        String path = r.path();
        String query = "";
        int q = path.indexOf('?');
        if (q >= 0) {
            query = path.substring(q + 1);
            path = path.substring(0, q);
        }
        Op op = find(r.method(), path);
        if (op == null) {
            if (r.status() == 404 || r.status() == 405) {
                return;
            }
            throw new AssertionError("undocumented operation " + r.method() + " " + path + " answered " + r.status());
        }
        JsonNode responses = op.node().path("responses");
        JsonNode resp = responses.get(Integer.toString(r.status()));
        if (resp == null) {
            resp = responses.get("default");
        }
        if (resp == null) {
            throw new AssertionError("status " + r.status() + " is not documented for " + op.method() + " "
                    + op.template() + ": " + r.text());
        }
        resp = resolve(resp);
        JsonNode content = resp.path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            if (r.bytes().length > 0) {
                throw new AssertionError(op.method() + " " + op.template() + " " + r.status()
                        + " documents no body but returned: " + r.text());
            }
            return;
        }
        String type = r.header("Content-Type");
        if (type == null) {
            throw new AssertionError(op.method() + " " + op.template() + " " + r.status() + " has no Content-Type");
        }
        String mediaType = type.split(";")[0].trim();
        JsonNode media = content.get(mediaType);
        if (media == null) {
            throw new AssertionError(op.method() + " " + op.template() + " " + r.status() + " returned " + mediaType
                    + ", documented: " + content.fieldNames().next());
        }
        if (query.contains("fields=") || !mediaType.contains("json")) {
            return;
        }
        JsonNode schemaNode = media.path("schema");
        String key = op.method() + " " + op.template() + " " + r.status() + " " + mediaType;
        JsonSchema schema = SCHEMAS.computeIfAbsent(key, k -> compile(schemaNode));
        Set<ValidationMessage> errors = schema.validate(r.json());
        if (!errors.isEmpty()) {
            throw new AssertionError("response of " + op.method() + " " + path + " (" + r.status()
                    + ") breaks its schema: " + errors + "\nbody: " + r.text());
        }
    }

    /** Where {@code value} breaks {@code schemaNode} (a schema of the document, its refs resolved against it). */
    public static Set<ValidationMessage> violations(JsonNode schemaNode, JsonNode value) {
        return compile(schemaNode).validate(value);
    }

    /** The node a {@code $ref} names (followed until it is no reference), or the node itself. */
    public static JsonNode resolved(JsonNode n) {
        return resolve(n);
    }

    private static Op find(String method, String path) {
        Op best = null;
        for (Op op : OPS) {
            if (op.method().equals(method) && op.pattern().matcher(path).matches()) {
                // Prefer literal templates over parameterised ones.
                if (best == null || op.template().chars().filter(c -> c == '{').count()
                        < best.template().chars().filter(c -> c == '{').count()) {
                    best = op;
                }
            }
        }
        return best;
    }

    private static JsonSchema compile(JsonNode schemaNode) {
        ObjectNode s = rewriteRefs(schemaNode.deepCopy()) instanceof ObjectNode o ? o : Json.MAPPER.createObjectNode();
        s.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        s.set("$defs", DEFS);
        return FACTORY.getSchema(s);
    }

    private static JsonNode resolve(JsonNode n) {
        JsonNode ref = n.get("$ref");
        if (ref == null) {
            return n;
        }
        JsonNode cur = DOC;
        for (String part : ref.asText().substring(2).split("/")) {
            cur = cur.path(part);
        }
        return resolve(cur);
    }

    private static JsonNode rewriteRefs(JsonNode n) {
        if (n instanceof ObjectNode o) {
            JsonNode ref = o.get("$ref");
            if (ref != null && ref.isTextual() && ref.asText().startsWith("#/components/schemas/")) {
                o.set("$ref", TextNode.valueOf("#/$defs/" + ref.asText().substring("#/components/schemas/".length())));
            }
            Iterator<Map.Entry<String, JsonNode>> it = o.fields();
            while (it.hasNext()) {
                rewriteRefs(it.next().getValue());
            }
        } else if (n != null && n.isArray()) {
            n.forEach(OpenApiContract::rewriteRefs);
        }
        return n;
    }

    private static List<Op> operations() {
        List<Op> ops = new ArrayList<>();
        var paths = DOC.path("paths").fields();
        while (paths.hasNext()) {
            var p = paths.next();
            var methods = p.getValue().fields();
            while (methods.hasNext()) {
                var m = methods.next();
                String method = m.getKey().toUpperCase();
                if (Set.of("GET", "POST", "PUT", "PATCH", "DELETE").contains(method)) {
                    ops.add(new Op(method, p.getKey(), ApiRouter.pattern(p.getKey()), m.getValue()));
                }
            }
        }
        return ops;
    }

    private static JsonNode load() {
        try (InputStream in = OpenApiContract.class.getResourceAsStream("/openapi.json")) {
            return Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
