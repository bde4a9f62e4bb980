package ai.arches.workflows.tools;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import ai.arches.common.FieldError;
import ai.arches.config.ArchesConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code summarize}: a short summary of {@code text}, at most {@code sentences} sentences and
 * {@code maxWords} words. In process ({@link ExtractiveSummary}) unless the operator configured
 * an OpenAI-compatible chat endpoint ({@code workflows.summarize.url}); that endpoint is the
 * operator's own choice, so the SSRF guard does not apply to it. Errors never quote the
 * endpoint's address or key.
 */
final class SummarizeTool implements Tool {
    static final int MAX_TEXT = 5_000_000;
    static final int DEFAULT_WORDS = 120;
    static final int DEFAULT_SENTENCES = 3;
    /** A chat completion is a few kilobytes; this only stops a runaway answer. */
    private static final long MAX_ANSWER_BYTES = 4L << 20;

    private final HttpClient client;
    private final ArchesConfig.Summarize cfg;
    private final ObjectMapper json;

    SummarizeTool(HttpClient client, ArchesConfig.Summarize cfg, ObjectMapper json) {
        this.client = client;
        this.cfg = cfg;
        this.json = json;
    }

    @Override
    public String name() {
        return "summarize";
    }

    private record Params(String text, int sentences, int maxWords) {}

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        params(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) throws InterruptedException {
        Args a = Args.run(call.config());
        Params p = params(a);
        a.done();
        if (!cfg.remote() || p.text().isBlank()) {
            String summary = ExtractiveSummary.summarize(p.text(), p.sentences(), p.maxWords());
            return json.createObjectNode().put("summary", summary).put("method", "extractive");
        }
        return json.createObjectNode().put("summary", remote(p)).put("method", "remote");
    }

    private String remote(Params p) throws InterruptedException {
        ObjectNode body = json.createObjectNode().put("model", cfg.model());
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "Summarize the user's text concisely, in at most "
                + p.sentences() + " sentences and " + p.maxWords() + " words. Answer with the summary only.");
        messages.addObject().put("role", "user").put("content", p.text());
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(URI.create(cfg.url() + "/chat/completions"))
                    .timeout(cfg.timeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
            if (cfg.url().startsWith("http:")) {
                b.version(HttpClient.Version.HTTP_1_1);
            }
            if (cfg.apiKey() != null && !cfg.apiKey().isEmpty()) {
                b.header("Authorization", "Bearer " + cfg.apiKey());
            }
        } catch (IOException | IllegalArgumentException e) {
            // No cause: the JDK's message could quote the key.
            throw new ToolException("the summarize endpoint or its key is not usable (workflows.summarize)");
        }
        HttpResponse<byte[]> res = BoundedExchange.send(client, b.build(), MAX_ANSWER_BYTES, cfg.timeout());
        if (res.statusCode() / 100 != 2) {
            throw new ToolException("summarize endpoint answered status " + res.statusCode());
        }
        JsonNode content;
        try {
            content = json.readTree(res.body()).path("choices").path(0).path("message").path("content");
        } catch (IOException e) {
            throw new ToolException("summarize endpoint returned malformed JSON");
        }
        if (!content.isTextual()) {
            throw new ToolException("summarize endpoint returned no choices[0].message.content");
        }
        return content.textValue().strip();
    }

    private static Params params(Args a) {
        String text = a.string("text", true, 0, MAX_TEXT, true);
        int maxWords = (int) a.number("maxWords", 1, 5000, DEFAULT_WORDS);
        int sentences = (int) a.number("sentences", 1, 100, DEFAULT_SENTENCES);
        return new Params(text, sentences, maxWords);
    }
}
