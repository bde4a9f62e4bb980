package ai.arches.observability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the series selectors in a PromQL expression (enough of the grammar for the deploy/
 * files, not a full parser): every metric name with the label matchers written on it. An
 * identifier followed by "(" is a function or an aggregation; label lists after by, without,
 * on, ignoring, group_left and group_right are skipped, as are strings, numbers, durations,
 * range and subquery brackets, comments and Grafana variables ($name, ${name}, [[name]]).
 */
final class PromQl {
    /** A label matcher: the label, the operator (=, !=, =~, !~) and the value as written. */
    record Matcher(String label, String op, String value) {}

    /** A metric name and its matchers. */
    record Selector(String metric, List<Matcher> matchers) {}

    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without",
            "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2");
    private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");

    private final String s;
    private int i;

    private PromQl(String expr) {
        this.s = expr;
    }

    static List<Selector> selectors(String expr) {
        return new PromQl(expr).parse();
    }

    private List<Selector> parse() {
        List<Selector> out = new ArrayList<>();
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '"' || c == '\'' || c == '`') {
                string();
            } else if (c == '$') {
                variable();
            } else if (c == '[') {
                int end = s.indexOf(']', i);
                if (end < 0) {
                    throw new IllegalArgumentException("unclosed [ in " + s);
                }
                i = end + 1;
            } else if (c == '{') {
                throw new IllegalArgumentException("selector without a metric name in " + s);
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                    i++;
                }
            } else if (Character.isLetter(c) || c == '_' || c == ':') {
                String name = identifier();
                int after = skipSpace(i);
                // An aggregation is followed by its arguments or by by/without: sum by (le) (...).
                boolean call = after < s.length() && s.charAt(after) == '('
                        || s.startsWith("by", after) || s.startsWith("without", after);
                if (LABEL_LISTS.contains(name)) {
                    if (call) {
                        i = s.indexOf(')', after) + 1;
                    }
                } else if (!call && !KEYWORDS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                    List<Matcher> matchers = List.of();
                    if (after < s.length() && s.charAt(after) == '{') {
                        i = after;
                        matchers = matchers();
                    }
                    out.add(new Selector(name, matchers));
                }
            } else {
                i++;
            }
        }
        return out;
    }

    private List<Matcher> matchers() {
        List<Matcher> out = new ArrayList<>();
        i++; // {
        while (true) {
            i = skipSpace(i);
            if (s.charAt(i) == '}') {
                i++;
                return out;
            }
            if (s.charAt(i) == ',') {
                i++;
                continue;
            }
            String label = identifier();
            i = skipSpace(i);
            String op = s.startsWith("=~", i) || s.startsWith("!~", i) || s.startsWith("!=", i) ? s.substring(i, i + 2) : "=";
            i += op.length();
            i = skipSpace(i);
            out.add(new Matcher(label, op, string()));
        }
    }

    private String identifier() {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':')) {
            i++;
        }
        if (start == i) {
            throw new IllegalArgumentException("expected a name at " + i + " in " + s);
        }
        return s.substring(start, i);
    }

    /** A quoted string from i; returns its content (escapes kept as written). */
    private String string() {
        char quote = s.charAt(i);
        int start = ++i;
        while (s.charAt(i) != quote) {
            i += s.charAt(i) == '\\' && quote != '`' ? 2 : 1;
        }
        return s.substring(start, i++);
    }

    private void variable() {
        i++;
        if (i < s.length() && s.charAt(i) == '{') {
            i = s.indexOf('}', i) + 1;
        } else {
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
        }
    }

    private int skipSpace(int from) {
        while (from < s.length() && Character.isWhitespace(s.charAt(from))) {
            from++;
        }
        return from;
    }

    /**
     * The series of a Prometheus text exposition: each sample name (histograms' _bucket, _count
     * and _sum as the names they are exported under) to the labels seen on it, label to values.
     */
    static Map<String, Map<String, Set<String>>> exposition(String text) {
        Map<String, Map<String, Set<String>>> out = new LinkedHashMap<>();
        var label = java.util.regex.Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
            Map<String, Set<String>> labels = out.computeIfAbsent(name, n -> new LinkedHashMap<>());
            if (brace >= 0 && brace < space) {
                var m = label.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
                while (m.find()) {
                    labels.computeIfAbsent(m.group(1), l -> new java.util.TreeSet<>()).add(m.group(2));
                }
            }
        }
        return out;
    }
}
