package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

class SummarizeTest {
    private static final String TEXT = """
            Solar panels convert sunlight into electricity. The weather was pleasant on Tuesday. \
            Modern solar panels convert more sunlight into electricity than older panels did. \
            My cat likes to sleep. Electricity from solar panels is cheap when sunlight is plentiful. \
            Dr. Smith, e.g. the neighbour, painted a fence.""";

    @Test
    void sentences_split_at_ends_but_not_at_abbreviations() {
        assertThat(ExtractiveSummary.sentences("Dr. Who met Mr. Smith at 3.14 p.m. today! Did he? \"Yes.\" Done\n\nNew"))
                .containsExactly("Dr. Who met Mr. Smith at 3.14 p.m. today!", "Did he?", "\"Yes.\"", "Done", "New");
    }

    @Test
    void picks_the_most_representative_sentences_in_their_original_order() {
        String summary = ExtractiveSummary.summarize(TEXT, 2, 120);
        assertThat(summary).isEqualTo("Solar panels convert sunlight into electricity. "
                + "Modern solar panels convert more sunlight into electricity than older panels did.");
    }

    @Test
    void respects_the_word_budget() {
        // The best sentence (13 words) does not fit 11: the next best that do are taken instead.
        String summary = ExtractiveSummary.summarize(TEXT, 3, 11);
        assertThat(ExtractiveSummary.wordCount(summary)).isLessThanOrEqualTo(11);
        assertThat(summary).isEqualTo("Solar panels convert sunlight into electricity. My cat likes to sleep.");
        assertThat(ExtractiveSummary.summarize(TEXT, 3, 14))
                .isEqualTo("Modern solar panels convert more sunlight into electricity than older panels did.");
        // No sentence fits: the best one, cut to the budget.
        assertThat(ExtractiveSummary.summarize(TEXT, 3, 3)).isEqualTo("Modern solar panels…");
    }

    @Test
    void a_short_text_is_its_own_summary() {
        assertThat(ExtractiveSummary.summarize("  One line.\n Two   lines. ", 3, 120)).isEqualTo("One line. Two lines.");
        assertThat(ExtractiveSummary.summarize("   ", 3, 120)).isEmpty();
    }

    @Test
    void the_tool_summarizes_in_process_without_an_endpoint() throws Exception {
        var tool = new SummarizeTool(null, Fixtures.workflows().summarize(), Json.MAPPER);
        JsonNode out = tool.run(Fixtures.call("{\"text\": " + Json.MAPPER.writeValueAsString(TEXT)
                + ", \"sentences\": \"1\"}"));
        assertThat(out.get("method").asText()).isEqualTo("extractive");
        assertThat(out.get("summary").asText())
                .isEqualTo("Modern solar panels convert more sunlight into electricity than older panels did.");
        assertThatThrownBy(() -> tool.run(Fixtures.call("{\"text\": \"x\", \"maxWords\": 0}")))
                .hasMessageContaining("maxWords");
    }

    @Test
    void with_an_endpoint_the_tool_asks_it() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicReference<String> auth = new AtomicReference<>();
        AtomicReference<JsonNode> request = new AtomicReference<>();
        AtomicReference<Integer> status = new AtomicReference<>(200);
        server.createContext("/v1/chat/completions", ex -> {
            try (ex) {
                auth.set(ex.getRequestHeaders().getFirst("Authorization"));
                request.set(Json.MAPPER.readTree(ex.getRequestBody().readAllBytes()));
                byte[] body = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\" Short. \"}}]}"
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(status.get(), body.length);
                ex.getResponseBody().write(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        server.start();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
        try (HttpClient client = HttpClient.newHttpClient()) {
            var tool = new SummarizeTool(client, Fixtures.workflows(List.of(), 1 << 20, url).summarize(), Json.MAPPER);
            JsonNode out = tool.run(Fixtures.call("{\"text\": \"Long text.\"}"));
            assertThat(out.get("method").asText()).isEqualTo("remote");
            assertThat(out.get("summary").asText()).isEqualTo("Short.");
            assertThat(auth.get()).isEqualTo("Bearer sk-test");
            assertThat(request.get().get("model").asText()).isEqualTo("test-model");
            assertThat(request.get().at("/messages/0/role").asText()).isEqualTo("system");
            assertThat(request.get().at("/messages/1/content").asText()).isEqualTo("Long text.");

            status.set(503);
            assertThatThrownBy(() -> tool.run(Fixtures.call("{\"text\": \"Long text.\"}")))
                    .isInstanceOf(ToolException.class).hasMessage("summarize endpoint answered status 503");
        } finally {
            server.stop(0);
        }
    }
}
