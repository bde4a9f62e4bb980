package ai.arches.workflows.tools;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A summary made of the text's own sentences: each sentence scores by how frequent its words
 * are in the whole text (stop words aside, frequencies scaled so the most frequent word counts
 * 1), divided by the square root of its length so that neither long sentences (many words) nor
 * short ones (a high average) win by size alone. The best sentences that fit the word budget are
 * kept and shown in their original order. Linear in the text's length, apart from sorting the
 * sentences.
 */
final class ExtractiveSummary {
    /** Short enough to keep, common enough to say nothing about a text's subject. */
    private static final Set<String> STOP_WORDS = Set.of(("a about above after again against all also am an and any "
            + "are as at be because been before being below between both but by can could did do does doing down "
            + "during each either else ever few for from further had has have having he her here hers herself him "
            + "himself his how however i if in into is it its itself just least less let like made make many may me "
            + "might more most much must my myself neither no nor not now of off often on once one only or other "
            + "our ours ourselves out over own per rather same shall she should since so some such than that the "
            + "their theirs them themselves then there these they this those though through thus to too under "
            + "until up upon us very was we were what when where whether which while who whom whose why will with "
            + "within without would yet you your yours yourself yourselves s t d ll m re ve").split(" "));
    /** Words a period follows without ending the sentence. */
    private static final Set<String> ABBREVIATIONS = Set.of("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs",
            "etc", "e.g", "i.e", "fig", "no", "inc", "ltd", "co", "approx", "dept");

    private ExtractiveSummary() {}

    static String summarize(String text, int sentences, int maxWords) {
        List<String> all = sentences(text);
        if (all.isEmpty()) {
            return "";
        }
        int total = all.stream().mapToInt(ExtractiveSummary::wordCount).sum();
        if (all.size() <= sentences && total <= maxWords) {
            return String.join(" ", all);
        }
        double[] scores = scores(all);
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < all.size(); k++) {
            order.add(k);
        }
        // Best first; on a tie the earlier sentence, as openings tend to state the subject.
        order.sort(Comparator.<Integer>comparingDouble(k -> -scores[k]).thenComparing(k -> k));
        List<Integer> chosen = new ArrayList<>();
        int words = 0;
        for (int k : order) {
            if (chosen.size() == sentences) {
                break;
            }
            int w = wordCount(all.get(k));
            if (words + w <= maxWords) {
                chosen.add(k);
                words += w;
            }
        }
        if (chosen.isEmpty()) {
            // Every sentence is longer than the budget: the best one, cut.
            return cut(all.get(order.getFirst()), maxWords);
        }
        chosen.sort(null);
        List<String> out = new ArrayList<>();
        chosen.forEach(k -> out.add(all.get(k)));
        return String.join(" ", out);
    }

    /**
     * Sentences with whitespace collapsed: ended by . ! or ? (then closing quotes or brackets)
     * before whitespace, unless the word is a known abbreviation, an initial or dotted ("p.m."); a
     * blank line ends one too, so headings and list items without punctuation stand alone.
     */
    static List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = text.length();
        int newlines = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                newlines += c == '\n' ? 1 : 0;
                if (newlines >= 2) {
                    flush(cur, out);
                } else if (!cur.isEmpty() && cur.charAt(cur.length() - 1) != ' ') {
                    cur.append(' ');
                }
                continue;
            }
            newlines = 0;
            cur.append(c);
            if (c == '.' || c == '!' || c == '?') {
                int j = i + 1;
                while (j < n && "\"')]}»”’".indexOf(text.charAt(j)) >= 0) {
                    cur.append(text.charAt(j));
                    j++;
                }
                i = j - 1;
                if ((j == n || Character.isWhitespace(text.charAt(j))) && (c != '.' || !abbreviation(cur))) {
                    flush(cur, out);
                }
            }
        }
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        String s = cur.toString().strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
        cur.setLength(0);
    }

    /** Whether the sentence so far ends with an abbreviation's period ("Dr.", "e.g.", "J."). */
    private static boolean abbreviation(StringBuilder cur) {
        int end = cur.length() - 1;
        while (end >= 0 && cur.charAt(end) == '.') {
            end--;
        }
        int start = end;
        while (start >= 0 && cur.charAt(start) != ' ') {
            start--;
        }
        String word = cur.substring(start + 1, end + 1).toLowerCase(Locale.ROOT);
        return (word.length() == 1 && Character.isLetter(word.charAt(0))) || ABBREVIATIONS.contains(word)
                || dotted(word);
    }

    /** Letters in dotted groups of one or two, as in "p.m", "U.S", "Ph.D"; not "3.14". */
    private static boolean dotted(String word) {
        if (word.indexOf('.') < 0) {
            return false;
        }
        for (String part : word.split("\\.", -1)) {
            if (part.isEmpty() || part.length() > 2 || !part.chars().allMatch(Character::isLetter)) {
                return false;
            }
        }
        return true;
    }

    private static double[] scores(List<String> sentences) {
        List<List<String>> words = new ArrayList<>();
        Map<String, Integer> freq = new HashMap<>();
        for (String s : sentences) {
            List<String> w = contentWords(s);
            words.add(w);
            w.forEach(x -> freq.merge(x, 1, Integer::sum));
        }
        double max = freq.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        double[] out = new double[sentences.size()];
        for (int k = 0; k < out.length; k++) {
            double sum = 0;
            for (String w : words.get(k)) {
                sum += freq.get(w) / max;
            }
            out[k] = words.get(k).isEmpty() ? 0 : sum / Math.sqrt(words.get(k).size());
        }
        return out;
    }

    /** Lower-cased words (letters and digits, inner apostrophes kept) that are not stop words. */
    static List<String> contentWords(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            if (!Character.isLetterOrDigit(s.charAt(i))) {
                i++;
                continue;
            }
            int start = i;
            while (i < n && (Character.isLetterOrDigit(s.charAt(i))
                    || (s.charAt(i) == '\'' && i + 1 < n && Character.isLetter(s.charAt(i + 1))))) {
                i++;
            }
            String w = s.substring(start, i).toLowerCase(Locale.ROOT);
            int apostrophe = w.indexOf('\'');
            String stem = apostrophe > 0 ? w.substring(0, apostrophe) : w;
            if (stem.length() > 1 && !STOP_WORDS.contains(stem)) {
                out.add(stem);
            }
        }
        return out;
    }

    static int wordCount(String s) {
        int count = 0;
        boolean in = false;
        for (int k = 0; k < s.length(); k++) {
            boolean ws = Character.isWhitespace(s.charAt(k));
            if (!ws && !in) {
                count++;
            }
            in = !ws;
        }
        return count;
    }

    private static String cut(String sentence, int maxWords) {
        String[] w = sentence.split(" ");
        return w.length <= maxWords ? sentence : String.join(" ", List.of(w).subList(0, maxWords)) + "…";
    }
}
