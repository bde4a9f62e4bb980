package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;

import ai.arches.common.FieldError;
import ai.arches.embedding.Passages;
import ai.arches.http.Json;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ToolboxTest {
    private static final String AT = "definition.nodes[2]";
    private final Toolbox toolbox = new Toolbox(null, null, new Passages(20, 5), Fixtures.workflows(), Json.MAPPER);

    @AfterEach
    void close() {
        toolbox.close();
    }

    private List<FieldError> check(String tool, String config) {
        return toolbox.check(tool, config == null ? null : Fixtures.config(config), AT);
    }

    @Test
    void names_are_the_built_in_tools_sorted() {
        assertThat(toolbox.names()).containsExactly("chunk", "create-content", "delay", "extract", "fail", "http",
                "search", "summarize", "transform");
        assertThat(toolbox.get("delay")).get().extracting(Tool::name).isEqualTo("delay");
        assertThat(toolbox.get("nope")).isEmpty();
        assertThat(toolbox.get(null)).isEmpty();
    }

    @Test
    void an_unknown_tool_is_reported_with_the_known_ones() {
        assertThat(check("dleay", "{}")).containsExactly(new FieldError(AT + ".tool",
                "unknown tool 'dleay' (known: chunk, create-content, delay, extract, fail, http, search, summarize, transform)"));
        assertThat(check(null, "{}")).extracting(FieldError::field).containsExactly(AT + ".tool");
    }

    @Test
    void valid_configs_pass_and_executor_keys_are_not_the_tools_business() {
        assertThat(check("delay", "{\"ms\": 10, \"retry\": {\"max\": 3}, \"timeout\": \"5s\"}")).isEmpty();
        assertThat(check("delay", "{\"ms\": \"250\"}")).isEmpty();
        assertThat(check("fail", null)).isEmpty();
        assertThat(check("transform", "{\"anything\": [1], \"value\": {\"x\": \"{{input.y}}\"}}")).isEmpty();
        assertThat(check("extract", "{\"documentId\": \"0190f5d0-7c9a-7cc4-9a51-3f0e5f6a1b2c\"}")).isEmpty();
        assertThat(check("chunk", "{\"text\": \"some text\", \"title\": \"T\"}")).isEmpty();
        assertThat(check("search", "{\"query\": \"q\", \"mode\": \"keyword\", \"limit\": 5, \"tags\": [\"a\"]}")).isEmpty();
        assertThat(check("summarize", "{\"text\": \"t\", \"maxWords\": 50, \"sentences\": 2}")).isEmpty();
        assertThat(check("create-content", "{\"title\": \"T\", \"body\": \"\", \"tags\": [\"x\"], "
                + "\"metadata\": {\"k\": 1}, \"type\": \"note\", \"mimeType\": \"text/markdown\"}")).isEmpty();
        assertThat(check("http", "{\"url\": \"https://example.com/x?y=1\", \"method\": \"POST\", "
                + "\"headers\": {\"Authorization\": \"Bearer t\"}, \"body\": {\"a\": 1}, \"acceptAnyStatus\": true}")).isEmpty();
    }

    @Test
    void templates_are_judged_at_run_time_not_when_saved() {
        assertThat(check("delay", "{\"ms\": \"{{input.wait}}\"}")).isEmpty();
        assertThat(check("search", "{\"query\": \"{{input.q}}\", \"mode\": \"{{input.mode}}\", \"limit\": \"{{input.n}}\"}"))
                .isEmpty();
        assertThat(check("http", "{\"url\": \"{{input.url}}\", \"method\": \"{{input.m}}\", \"body\": \"{{input}}\"}"))
                .isEmpty();
        assertThat(check("extract", "{\"documentId\": \"{{nodes.create.output.id}}\"}")).isEmpty();
        assertThat(check("create-content", "{\"title\": \"{{input.t}}\", \"body\": \"{{input.b}}\", "
                + "\"type\": \"{{input.type}}\", \"tags\": [\"{{input.tag}}\"]}")).isEmpty();
    }

    @Test
    void problems_are_reported_under_their_config_paths() {
        String c = AT + ".config";
        assertThat(check("delay", "{\"ms\": 3600001}")).extracting(FieldError::field, FieldError::message)
                .containsExactly(tuple(c + ".ms", "must be a whole number from 0 to 3600000"));
        assertThat(check("delay", "{\"ms\": \"soon\"}")).extracting(FieldError::field).containsExactly(c + ".ms");
        assertThat(check("delay", "{}")).extracting(FieldError::message).containsExactly("is required");
        assertThat(check("delay", "{\"ms\": 1, \"msec\": 2}")).extracting(FieldError::field, FieldError::message)
                .containsExactly(tuple(c + ".msec", "is not a known field"));
        assertThat(check("fail", "{\"message\": 42}")).extracting(FieldError::field).containsExactly(c + ".message");
        assertThat(check("extract", "{\"text\": \"a\", \"html\": \"b\"}")).extracting(FieldError::field)
                .containsExactly(c);
        assertThat(check("extract", "{\"documentId\": \"abc\"}")).extracting(FieldError::field)
                .containsExactly(c + ".documentId");
        assertThat(check("chunk", "{\"title\": \"t\"}")).extracting(FieldError::field).containsExactly(c + ".text");
        assertThat(check("search", "{\"mode\": \"fuzzy\", \"limit\": 101, \"tags\": \"a\"}"))
                .extracting(FieldError::field, FieldError::message).containsExactly(
                        tuple(c + ".query", "is required"),
                        tuple(c + ".mode", "must be one of hybrid, keyword, semantic"),
                        tuple(c + ".limit", "must be a whole number from 1 to 100"),
                        tuple(c + ".tags", "must be an array of strings"));
        assertThat(check("summarize", "{\"text\": \"t\", \"maxWords\": 0, \"sentences\": 101}"))
                .extracting(FieldError::field).containsExactly(c + ".maxWords", c + ".sentences");
        assertThat(check("create-content", "{\"title\": \"" + "x".repeat(501) + "\", \"type\": \"Bad Type\", "
                + "\"mimeType\": \"nonsense\", \"tags\": [\"\"], \"metadata\": []}"))
                .extracting(FieldError::field).containsExactly(c + ".title", c + ".body", c + ".type", c + ".mimeType",
                        c + ".tags[0]", c + ".metadata");
    }

    @Test
    void http_problems_are_found_before_any_request() {
        String c = AT + ".config";
        assertThat(check("http", "{\"url\": \"ftp://example.com/\"}")).extracting(FieldError::field, FieldError::message)
                .containsExactly(tuple(c + ".url", "must be an absolute http:// or https:// URL"));
        assertThat(check("http", "{\"url\": \"http://user:pw@example.com/\"}")).extracting(FieldError::message)
                .containsExactly("must not contain user info (user:password@)");
        assertThat(check("http", "{\"url\": \"http://169.254.169.254/latest\"}")).extracting(FieldError::message)
                .containsExactly("is refused: its host is a cloud metadata address");
        assertThat(check("http", "{\"url\": \"not a url\"}")).extracting(FieldError::field).containsExactly(c + ".url");
        assertThat(check("http", "{\"url\": \"https://example.com/\", \"method\": \"TRACE\"}"))
                .extracting(FieldError::field).containsExactly(c + ".method");
        assertThat(check("http", "{\"url\": \"https://example.com/\", \"body\": \"x\"}"))
                .extracting(FieldError::field, FieldError::message).containsExactly(tuple(c + ".body", "must be absent for GET"));
        assertThat(check("http", "{\"url\": \"https://example.com/\", \"headers\": {\"Host\": \"evil\", "
                + "\"Content-Length\": \"1\", \"bad name\": \"x\", \"X-Ok\": \"a\\r\\nInjected: yes\", \"X-Num\": 1}}"))
                .extracting(FieldError::field).containsExactly(c + ".headers.Host", c + ".headers.Content-Length",
                        c + ".headers.bad name", c + ".headers.X-Ok", c + ".headers.X-Num");
        assertThat(check("http", "{}")).extracting(FieldError::field).containsExactly(c + ".url");
    }
}
