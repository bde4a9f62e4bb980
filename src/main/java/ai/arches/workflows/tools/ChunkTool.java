package ai.arches.workflows.tools;

import java.util.List;

import ai.arches.common.FieldError;
import ai.arches.embedding.Passages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code chunk}: cuts {@code text} into passages exactly as a stored document is cut for
 * embedding and search ({@link Passages#split}), so a workflow sees what search would see. With
 * a {@code title}, passage 0 is the title, as for a document; without one there is no empty
 * passage 0 (a document always has a title; inline text need not).
 */
final class ChunkTool implements Tool {
    static final int MAX_TEXT = 5_000_000;
    static final int MAX_TITLE = 500;

    private final Passages passages;
    private final ObjectMapper json;

    ChunkTool(Passages passages, ObjectMapper json) {
        this.passages = passages;
        this.json = json;
    }

    @Override
    public String name() {
        return "chunk";
    }

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        a.string("text", true, 0, MAX_TEXT, true);
        a.string("title", false, MAX_TITLE);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) {
        Args a = Args.run(call.config());
        String text = a.string("text", true, 0, MAX_TEXT, true);
        String title = a.string("title", false, MAX_TITLE);
        a.done();
        List<String> cut = passages.split(title == null ? "" : title, text);
        List<String> out = title == null || title.isEmpty() ? cut.subList(1, cut.size()) : cut;
        ObjectNode result = json.createObjectNode();
        ArrayNode list = result.putArray("passages");
        out.forEach(list::add);
        return result.put("count", out.size());
    }
}
