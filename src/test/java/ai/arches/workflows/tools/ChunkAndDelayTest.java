package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import ai.arches.embedding.Passages;
import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ChunkAndDelayTest {
    private final Passages passages = new Passages(20, 5);

    @Test
    void chunk_cuts_exactly_as_documents_are_cut() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            text.append("Word").append(i).append(i % 7 == 6 ? ". " : " ");
        }
        String body = text.toString();
        var tool = new ChunkTool(passages, Json.MAPPER);

        JsonNode out = tool.run(Fixtures.call("{\"title\": \"A title\", \"text\": " + Json.MAPPER.writeValueAsString(body) + "}"));
        List<String> expected = passages.split("A title", body);
        assertThat(out.get("count").asInt()).isEqualTo(expected.size());
        assertThat(Json.MAPPER.convertValue(out.get("passages"), String[].class)).containsExactlyElementsOf(expected);

        JsonNode untitled = tool.run(Fixtures.call("{\"text\": " + Json.MAPPER.writeValueAsString(body) + "}"));
        List<String> cut = passages.split("", body);
        assertThat(Json.MAPPER.convertValue(untitled.get("passages"), String[].class))
                .containsExactlyElementsOf(cut.subList(1, cut.size()));
        assertThat(tool.run(Fixtures.call("{\"text\": \"   \"}")).get("count").asInt()).isZero();
    }

    @Test
    void delay_passes_its_input_through() throws Exception {
        JsonNode out = new DelayTool().run(Fixtures.call(null, "{\"ms\": \"1\"}", TextNode.valueOf("in")));
        assertThat(out).isEqualTo(TextNode.valueOf("in"));
    }

    @Test
    @Timeout(10)
    void delay_stops_promptly_when_interrupted() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                new DelayTool().run(Fixtures.call("{\"ms\": 3600000}"));
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (t.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(t.getState()).isEqualTo(Thread.State.TIMED_WAITING);
        t.interrupt();
        assertThat(t.join(java.time.Duration.ofSeconds(5))).as("ended within 5 s of the interrupt").isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void delay_refuses_bad_durations_at_run_time_too() {
        assertThatThrownBy(() -> new DelayTool().run(Fixtures.call("{\"ms\": 3600001}")))
                .isInstanceOf(ToolException.class).hasMessage("config.ms must be a whole number from 0 to 3600000");
        assertThatThrownBy(() -> new DelayTool().run(Fixtures.call("{\"ms\": \"soon\"}"))).hasMessageContaining("config.ms");
        assertThatThrownBy(() -> new DelayTool().run(Fixtures.call("{}"))).hasMessage("config.ms is required");
    }
}
