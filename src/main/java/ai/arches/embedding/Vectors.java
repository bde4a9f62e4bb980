package ai.arches.embedding;

import java.util.List;

/** Small vector arithmetic on float arrays. */
public final class Vectors {
    private Vectors() {}

    /** Scales to unit length in place (a zero vector stays zero) and returns it. */
    public static float[] normalize(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        if (sum > 0) {
            float inv = (float) (1 / Math.sqrt(sum));
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
        }
        return v;
    }

    /** The unit-length mean: a whole document's direction from its passages'. */
    public static float[] mean(List<float[]> vectors) {
        float[] m = new float[vectors.getFirst().length];
        for (float[] v : vectors) {
            for (int i = 0; i < m.length; i++) {
                m[i] += v[i];
            }
        }
        return normalize(m);
    }
}
