package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;

import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ExtractTest {
    private final ExtractTool tool = new ExtractTool(null, Json.MAPPER);

    @Test
    void html_keeps_visible_text_only() {
        String html = """
                <!DOCTYPE html>
                <html><head><title>The &amp; Title</title>
                <meta charset="utf-8"><style>body { color: red }</style>
                <script>var x = "</p>"; alert('<b>hi</b>');</script></head>
                <body>
                <!-- a comment with <p>markup</p> -->
                <h1>Caf&eacute; &#8212; &#x41;&lt;B&gt;</h1>
                <p>First   paragraph,
                   spread over lines.</p><p>Second<br>line two</p>
                <noscript>Enable JavaScript</noscript><template><p>hidden</p></template>
                <ul><li>one</li><li>two &nbsp;items</li></ul>
                <p title="a > b" data-x='it"s'>Quoted &gt; attribute</p>
                <table><tr><td>a</td><td>b</td></tr></table>
                </body></html>""";
        HtmlText.Result r = HtmlText.extract(html);
        assertThat(r.title()).isEqualTo("The & Title");
        assertThat(r.text()).isEqualTo("""
                Café — A<B>

                First paragraph, spread over lines.

                Second
                line two

                one
                two items

                Quoted > attribute

                a b""");
    }

    @Test
    void html_entities_unknown_or_out_of_range_are_kept_or_replaced() {
        assertThat(HtmlText.extract("a &bogus; b &amp c &#0; d &#x110000; e &#xD800; f &").text())
                .isEqualTo("a &bogus; b & c \uFFFD d \uFFFD e \uFFFD f &");
        assertThat(HtmlText.extract("&#128512; &notanentityatallbutverylongindeedmorethanthirtytwo;").text())
                .isEqualTo("\uD83D\uDE00 &notanentityatallbutverylongindeedmorethanthirtytwo;");
    }

    @Test
    void html_that_is_not_a_tag_stays_text() {
        assertThat(HtmlText.extract("1 < 2 and 3 <4, <<x>>done").text()).isEqualTo("1 < 2 and 3 <4, <>done");
        assertThat(HtmlText.extract("<p title=it's>apostrophe</p>").text()).isEqualTo("apostrophe");
        assertThat(HtmlText.extract("before<!-->after").text()).isEqualTo("beforeafter");
        assertThat(HtmlText.extract("a <b>unclosed").text()).isEqualTo("a unclosed");
        assertThat(HtmlText.extract("kept <a href=\"x").text()).isEqualTo("kept");
        assertThat(HtmlText.extract("<head><meta x><title>T</title><p>body without its tag").text())
                .isEqualTo("body without its tag");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void hostile_html_is_linear() {
        int n = 200_000;
        String[] inputs = {
                "<".repeat(n),
                "<a".repeat(n),
                "<a ".repeat(n) + ">",
                "<a x=\"".repeat(n),
                "<!--".repeat(n),
                "<script>".repeat(n),
                "</".repeat(n) + "x",
                "<script>" + "</scrip".repeat(n),
                "&#".repeat(n) + "&amp".repeat(n),
                "<title>" + "&".repeat(n),
                "<div>".repeat(n) + "x" + "</div>".repeat(n),
        };
        for (String s : inputs) {
            HtmlText.extract(s);
        }
        assertThat(HtmlText.extract("<div>".repeat(n) + "x" + "</div>".repeat(n)).text()).isEqualTo("x");
    }

    @Test
    void markdown_loses_its_markup_not_its_words() {
        String md = """
                # The *Title* #

                Some **bold**, _italic_, ~~struck~~ and `code` text with a [link](https://example.com/a_(b)) \
                and ![an image](img.png) and <https://auto.example>.

                > A quote
                > > nested

                - item one
                * item two
                1. first
                2) second
                - [x] done task

                ```java
                int x = 2 * 3; // **not bold**
                ```

                | Name | Value |
                |:-----|------:|
                | a    | 1 \\| 2 |

                ---
                snake_case stays, 5 * 3 stays, \\*escaped\\*
                [ref]: https://example.com
                Setext heading
                ==============
                """;
        MarkdownText.Result r = MarkdownText.extract(md);
        assertThat(r.title()).isEqualTo("The Title");
        assertThat(r.text()).isEqualTo("""
                The Title

                Some bold, italic, struck and code text with a link and an image and https://auto.example.

                A quote
                nested

                item one
                item two
                first
                second
                done task

                int x = 2 * 3; // **not bold**

                Name Value
                a 1 | 2

                snake_case stays, 5 * 3 stays, *escaped*
                Setext heading""");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void hostile_markdown_is_linear() {
        int n = 200_000;
        String[] inputs = {
                "[".repeat(n),
                "[a](".repeat(n),
                "![".repeat(n) + "]",
                "`".repeat(n),
                "`a ``b ```c ````d".repeat(n / 16),
                "*_~".repeat(n),
                "<http://".repeat(n),
                "> ".repeat(n) + "x",
                "#".repeat(n),
                "|".repeat(n) + "\n|---|\n" + "|".repeat(n),
                "\\".repeat(n),
        };
        for (String s : inputs) {
            MarkdownText.extract(s);
        }
    }

    @Test
    void the_tool_takes_exactly_one_inline_source() {
        JsonNode out = tool.run(Fixtures.call("{\"html\": \"<title>T</title><p>Hello <b>world</b></p>\"}"));
        assertThat(out.get("text").asText()).isEqualTo("Hello world");
        assertThat(out.get("title").asText()).isEqualTo("T");
        assertThat(out.get("characters").asInt()).isEqualTo(11);

        out = tool.run(Fixtures.call("{\"markdown\": \"**ünïcode** 😀\"}"));
        assertThat(out.get("text").asText()).isEqualTo("ünïcode 😀");
        assertThat(out.get("characters").asInt()).isEqualTo(9);
        assertThat(out.has("title")).isFalse();

        out = tool.run(Fixtures.call("{\"text\": \"  plain <b>as is</b>  \"}"));
        assertThat(out.get("text").asText()).isEqualTo("plain <b>as is</b>");

        assertThatThrownBy(() -> tool.run(Fixtures.call("{\"text\": \"a\", \"html\": \"b\"}")))
                .isInstanceOf(ToolException.class).hasMessageContaining("exactly one of");
        assertThatThrownBy(() -> tool.run(Fixtures.call("{}"))).hasMessageContaining("exactly one of");
        assertThatThrownBy(() -> tool.run(Fixtures.call("{\"documentId\": \"not-a-uuid\"}")))
                .hasMessageContaining("documentId");
    }
}
