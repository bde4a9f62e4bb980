package ai.arches.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import ai.arches.testing.TestServer;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import org.junit.jupiter.api.Test;

/** The platform's own model path must give the vectors langchain4j gives: stored passages were made with either. */
class LocalMiniLmTest {
    @Test
    void vectors_match_langchain4j_for_short_blank_and_over_long_texts() {
        var shipped = new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run);
        List<String> texts = List.of("hello", "postgres vector index tuning", "  ",
                "Über naïve café—résumé: 42 × 7 = 294!", "word ".repeat(700));
        List<float[]> got = TestServer.MODEL.embed(texts);
        assertThat(got).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i).isBlank() ? "." : texts.get(i);
            float[] expected = Vectors.normalize(shipped.embed(t).content().vector());
            assertThat(cosine(expected, got.get(i))).as(t.substring(0, Math.min(30, t.length()))).isGreaterThan(0.99999);
        }
    }

    @Test
    void a_text_gets_the_same_vector_alone_and_among_others() {
        float[] alone = TestServer.MODEL.embed(List.of("vector search in postgres")).getFirst();
        float[] among = TestServer.MODEL.embed(List.of("a", "vector search in postgres", "something much longer than that"))
                .get(1);
        assertThat(among).containsExactly(alone);
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        return dot;
    }
}
