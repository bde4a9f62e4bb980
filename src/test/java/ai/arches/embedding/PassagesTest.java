package ai.arches.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PassagesTest {

    private static List<String> words(String s) {
        return Arrays.asList(s.split(" "));
    }

    /** Distinct words, about one in seven ending a sentence, so overlaps are unambiguous. */
    private static List<String> body(int n, long seed) {
        Random r = new Random(seed);
        List<String> w = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            w.add("w" + i + (r.nextInt(7) == 0 ? "." : ""));
        }
        return w;
    }

    @Test
    void the_title_is_passage_zero() {
        List<String> p = new Passages(8, 2).split("  A Title \n", "one two three");
        assertThat(p).containsExactly("A Title", "one two three");
    }

    @Test
    void a_blank_body_gives_only_the_title() {
        Passages passages = new Passages(8, 2);
        assertThat(passages.split("Title", "")).containsExactly("Title");
        assertThat(passages.split("Title", " \n\t  ")).containsExactly("Title");
    }

    @ParameterizedTest
    @CsvSource({"64, 16", "10, 3", "8, 0", "2, 1", "1, 0"})
    void windows_are_bounded_overlap_and_cover_the_body_in_order(int size, int overlap) {
        List<String> body = body(1000, size * 31L + overlap);
        List<String> windows = new Passages(size, overlap).split("T", "  " + String.join(" \n ", body) + "\n");
        windows = windows.subList(1, windows.size());

        assertThat(windows).hasSizeGreaterThan(1);
        List<String> rebuilt = new ArrayList<>(words(windows.getFirst()));
        for (int i = 0; i < windows.size(); i++) {
            List<String> w = words(windows.get(i));
            assertThat(w).as("window %d", i).hasSizeLessThanOrEqualTo(size).doesNotContain("");
            if (i > 0) {
                List<String> prev = words(windows.get(i - 1));
                assertThat(w.subList(0, overlap)).as("start of window %d", i)
                        .isEqualTo(prev.subList(prev.size() - overlap, prev.size()));
                rebuilt.addAll(w.subList(overlap, w.size()));
            }
        }
        assertThat(rebuilt).as("every word once, in order").isEqualTo(body);
    }

    @Test
    void a_window_ends_at_a_sentence_end_in_its_last_quarter() {
        String body = "a1 a2 a3 a4 a5 a6 a7. b1 b2 b3 b4 b5 b6 b7 b8";
        List<String> p = new Passages(8, 2).split("T", body);
        assertThat(p.get(1)).isEqualTo("a1 a2 a3 a4 a5 a6 a7.");
        assertThat(p.get(2)).startsWith("a6 a7. b1");
    }

    @Test
    void a_sentence_end_before_the_last_quarter_does_not_shorten_the_window() {
        String body = "a1 a2 a3 a4? b1 b2 b3 b4 b5 b6 b7 b8";
        List<String> p = new Passages(8, 2).split("T", body);
        assertThat(p.get(1)).isEqualTo("a1 a2 a3 a4? b1 b2 b3 b4");
    }

    @Test
    void model_input_prefixes_the_title_for_body_passages_only() {
        assertThat(Passages.modelInput(" Title ", 0, "Title")).isEqualTo("Title");
        assertThat(Passages.modelInput(" Title ", 1, "the body")).isEqualTo("Title. the body");
        assertThat(Passages.modelInput(" Title ", 7, "later")).isEqualTo("Title. later");
        assertThat(Passages.modelInput("  ", 3, "no title")).isEqualTo("no title");
    }

    @Test
    void invalid_sizes_are_refused() {
        assertThatThrownBy(() -> new Passages(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Passages(8, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Passages(8, 8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap < words");
    }
}
