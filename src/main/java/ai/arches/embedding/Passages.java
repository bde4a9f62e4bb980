package ai.arches.embedding;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document into what is embedded and searched: the title as passage 0, then windows of
 * {@code words} words of the body, each starting {@code words - overlap} words after the one
 * before, so a sentence cut by one window is whole in the next. A window is pulled back to end
 * at a sentence end when one lies in its last quarter.
 */
public final class Passages {
    private final int words;
    private final int overlap;

    public Passages(int words, int overlap) {
        if (words < 1 || overlap < 0 || overlap >= words) {
            throw new IllegalArgumentException("need 0 <= overlap < words, got " + overlap + " and " + words);
        }
        this.words = words;
        this.overlap = overlap;
    }

    /** Passage texts: the title first, then the body's windows (none for a blank body). */
    public List<String> split(String title, String body) {
        List<String> out = new ArrayList<>();
        out.add(title.strip());
        String[] w = body.strip().split("(?U)\\s+");
        if (w.length == 1 && w[0].isEmpty()) {
            return out;
        }
        int start = 0;
        while (start < w.length) {
            int end = Math.min(start + words, w.length);
            if (end < w.length) {
                // Prefer ending at a sentence boundary, if one is close to the window's end.
                for (int i = end - 1; i >= end - words / 4 && i > start + overlap; i--) {
                    if (endsSentence(w[i])) {
                        end = i + 1;
                        break;
                    }
                }
            }
            out.add(String.join(" ", java.util.Arrays.asList(w).subList(start, end)));
            if (end == w.length) {
                break;
            }
            start = Math.max(end - overlap, start + 1);
        }
        return out;
    }

    /** What the model reads for passage {@code ordinal}: body passages carry their title. */
    public static String modelInput(String title, int ordinal, String passage) {
        return ordinal == 0 || title.isBlank() ? passage : title.strip() + ". " + passage;
    }

    private static boolean endsSentence(String word) {
        char c = word.charAt(word.length() - 1);
        return c == '.' || c == '!' || c == '?';
    }
}
