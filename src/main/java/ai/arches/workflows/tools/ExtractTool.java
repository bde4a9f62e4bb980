package ai.arches.workflows.tools;

import java.util.List;
import java.util.Locale;
import java.util.UUID;

import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.content.Content;
import ai.arches.content.Contents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code extract}: plain text from exactly one of {@code documentId} (a document of the run's
 * organization, read as its mime type says), {@code text}, {@code markdown} or {@code html}.
 */
final class ExtractTool implements Tool {
    static final List<String> SOURCES = List.of("documentId", "text", "markdown", "html");
    /** Inline sources are bounded like a request body; a document is bounded by its own limit. */
    static final int MAX_INLINE = 5_000_000;

    private final Contents contents;
    private final ObjectMapper json;

    ExtractTool(Contents contents, ObjectMapper json) {
        this.contents = contents;
        this.json = json;
    }

    @Override
    public String name() {
        return "extract";
    }

    private record Source(String kind, String value) {}

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        source(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) {
        Args a = Args.run(call.config());
        Source s = source(a);
        a.done();
        String text;
        String title = null;
        switch (s.kind()) {
            case "documentId" -> {
                Content c = document(call, s.value());
                title = c.title();
                String mime = c.mimeType() == null ? "" : c.mimeType().toLowerCase(Locale.ROOT);
                text = mime.equals("text/html") || mime.equals("application/xhtml+xml")
                        ? HtmlText.extract(c.body()).text()
                        : mime.equals("text/markdown") || mime.equals("text/x-markdown")
                        ? MarkdownText.extract(c.body()).text()
                        : c.body().strip();
            }
            case "html" -> {
                HtmlText.Result r = HtmlText.extract(s.value());
                text = r.text();
                title = r.title();
            }
            case "markdown" -> {
                MarkdownText.Result r = MarkdownText.extract(s.value());
                text = r.text();
                title = r.title();
            }
            default -> text = s.value().strip();
        }
        ObjectNode out = json.createObjectNode().put("text", text);
        if (title != null) {
            out.put("title", title);
        }
        return out.put("characters", text.codePointCount(0, text.length()));
    }

    private Content document(ToolCall call, String id) {
        UUID uuid = Ids.parse(id).orElseThrow(() -> new ToolException("config.documentId must be a UUID"));
        try {
            return contents.get(call.access(), uuid);
        } catch (NotFoundException e) {
            throw new ToolException("document " + uuid + " not found");
        }
    }

    /** The one source given; in check mode null when it is missing, several, or a template. */
    private static Source source(Args a) {
        Source found = null;
        int count = 0;
        for (String key : SOURCES) {
            if (!a.has(key)) {
                continue;
            }
            count++;
            String v = key.equals("documentId") ? a.string(key, true, 36) : a.string(key, true, 0, MAX_INLINE, true);
            if (v != null && key.equals("documentId") && Ids.parse(v).isEmpty()) {
                a.problem(key, "must be a UUID");
                v = null;
            }
            if (v != null) {
                found = new Source(key, v);
            }
        }
        if (count != 1) {
            a.problem("must have exactly one of " + String.join(", ", SOURCES) + (count == 0 ? "" : ", not " + count));
            return null;
        }
        return found;
    }
}
