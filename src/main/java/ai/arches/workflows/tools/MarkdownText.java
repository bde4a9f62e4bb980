package ai.arches.workflows.tools;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Markdown reduced to its words: markup characters go, the text they mark up stays (link and
 * image text, code, table cells). Line by line, then a left-to-right scan within each line;
 * every "find the closing X" uses a precomputed next-index table or is remembered when it
 * failed, so a line of 200k '[' or '`' costs linear time, never quadratic. Not CommonMark: close
 * enough for search and summaries, which only need the words in order.
 */
final class MarkdownText {
    record Result(String text, String title) {}

    private MarkdownText() {}

    static Result extract(String markdown) {
        String[] lines = markdown.split("\r\n|\r|\n", -1);
        List<String> out = new ArrayList<>();
        String title = null;
        String fence = null;
        boolean inTable = false;
        for (int li = 0; li < lines.length; li++) {
            String line = lines[li];
            String t = line.strip();
            if (fence != null) {
                // Code keeps its text and its indentation: it is content, not markup.
                char f = fence.charAt(0);
                if (t.startsWith(fence) && t.chars().allMatch(ch -> ch == f)) {
                    fence = null;
                } else {
                    out.add(line.stripTrailing());
                }
                continue;
            }
            String open = fenceOpening(t);
            if (open != null) {
                fence = open;
                continue;
            }
            t = t.substring(quoteMarkers(t));
            if (t.isEmpty()) {
                out.add("");
                inTable = false;
                continue;
            }
            if (isRule(t) || isReferenceDefinition(t)) {
                continue;
            }
            int level = headingLevel(t);
            if (level > 0) {
                String text = inline(headingText(t, level));
                if (title == null && level == 1 && !text.isEmpty()) {
                    title = text;
                }
                out.add(text);
                continue;
            }
            if (isDelimiterRow(t)) {
                inTable = true;
                continue;
            }
            if (t.indexOf('|') >= 0 && (inTable || (li + 1 < lines.length && isDelimiterRow(lines[li + 1].strip())))) {
                out.add(row(t));
                continue;
            }
            out.add(inline(listItemText(t)));
        }
        return new Result(join(out), title);
    }

    /** The fence a line opens (its run of ``` or ~~~), or null. */
    private static String fenceOpening(String t) {
        if (!t.startsWith("```") && !t.startsWith("~~~")) {
            return null;
        }
        char c = t.charAt(0);
        int k = 0;
        while (k < t.length() && t.charAt(k) == c) {
            k++;
        }
        return t.substring(0, k);
    }

    /** ---, ***, ___ (spaces allowed between), also a setext heading's === or --- underline. */
    private static boolean isRule(String t) {
        char c = t.charAt(0);
        if (c != '-' && c != '*' && c != '_' && c != '=') {
            return false;
        }
        int count = 0;
        for (int k = 0; k < t.length(); k++) {
            char x = t.charAt(k);
            if (x == c) {
                count++;
            } else if (x != ' ' && x != '\t') {
                return false;
            }
        }
        return count >= 3 || (c == '=' || c == '-') && count == t.length() && count >= 2;
    }

    /** Length of the leading blockquote markers ("> > "), counted rather than cut one by one. */
    private static int quoteMarkers(String t) {
        int k = 0;
        while (k < t.length() && t.charAt(k) == '>') {
            k++;
            while (k < t.length() && (t.charAt(k) == ' ' || t.charAt(k) == '\t')) {
                k++;
            }
        }
        return k;
    }

    /** [label]: destination */
    private static boolean isReferenceDefinition(String t) {
        if (!t.startsWith("[") || t.startsWith("[^")) {
            return false;
        }
        int close = t.indexOf("]:");
        return close > 1 && t.indexOf(']') == close;
    }

    private static int headingLevel(String t) {
        int k = 0;
        while (k < t.length() && k < 7 && t.charAt(k) == '#') {
            k++;
        }
        return k >= 1 && k <= 6 && (k == t.length() || t.charAt(k) == ' ' || t.charAt(k) == '\t') ? k : 0;
    }

    /** The heading's text without the leading #s and an optional closing run of #s. */
    private static String headingText(String t, int level) {
        String s = t.substring(level).strip();
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '#') {
            end--;
        }
        if (end == 0 || s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t') {
            s = s.substring(0, end).strip();
        }
        return s;
    }

    /** |:--|--:| rows separate a table's header from its body. */
    private static boolean isDelimiterRow(String t) {
        return t.indexOf('|') >= 0 && t.indexOf('-') >= 0
                && t.chars().allMatch(ch -> ch == '|' || ch == '-' || ch == ':' || ch == ' ' || ch == '\t');
    }

    /** A table row's cells, separated by spaces instead of pipes. */
    private static String row(String t) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        for (int k = 0; k < t.length(); k++) {
            char c = t.charAt(k);
            if (c == '\\' && k + 1 < t.length() && t.charAt(k + 1) == '|') {
                cell.append('|');
                k++;
            } else if (c == '|') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString());
        StringBuilder out = new StringBuilder();
        for (String c : cells) {
            String text = inline(c.strip());
            if (!text.isEmpty()) {
                out.append(out.isEmpty() ? "" : " ").append(text);
            }
        }
        return out.toString();
    }

    /** Drops a bullet (-, *, +) or number (1. 1)) marker and a task box ([ ] or [x]). */
    private static String listItemText(String t) {
        int k = 0;
        if (t.length() > 1 && (t.charAt(0) == '-' || t.charAt(0) == '*' || t.charAt(0) == '+')) {
            k = 1;
        } else {
            while (k < t.length() && k < 9 && Character.isDigit(t.charAt(k))) {
                k++;
            }
            if (k == 0 || k >= t.length() || (t.charAt(k) != '.' && t.charAt(k) != ')')) {
                return t;
            }
            k++;
        }
        if (k < t.length() && t.charAt(k) != ' ' && t.charAt(k) != '\t') {
            return t;
        }
        String s = t.substring(k).strip();
        if (s.length() >= 3 && s.charAt(0) == '[' && s.charAt(2) == ']' && " xX".indexOf(s.charAt(1)) >= 0) {
            s = s.substring(3).strip();
        }
        return s;
    }

    /** One line's inline markup removed: emphasis, code ticks, links, images, autolinks, escapes. */
    static String inline(String s) {
        int n = s.length();
        int[] nextBracket = nextIndex(s, ']');
        int[] matchingParen = matchingParens(s);
        int[] nextAngle = nextIndex(s, '>');
        // Where a link's text ends, the scan jumps over its "](destination)" part.
        Map<Integer, Integer> jumps = new HashMap<>();
        // Tick-run lengths with no closing run further on: the answer stays no for the whole line.
        Set<Integer> unclosedTicks = new HashSet<>();
        StringBuilder out = new StringBuilder(n);
        int i = 0;
        while (i < n) {
            Integer jump = jumps.remove(i);
            if (jump != null) {
                i = jump;
                continue;
            }
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < n && isAsciiPunctuation(s.charAt(i + 1))) {
                out.append(s.charAt(i + 1));
                i += 2;
            } else if (c == '`') {
                int r = run(s, i, '`');
                int close = unclosedTicks.contains(r) ? -1 : closingTicks(s, i + r, r);
                if (close < 0) {
                    unclosedTicks.add(r);
                    out.append(s, i, i + r);
                    i += r;
                } else {
                    String code = s.substring(i + r, close);
                    if (code.length() > 2 && code.startsWith(" ") && code.endsWith(" ")) {
                        code = code.substring(1, code.length() - 1);
                    }
                    out.append(code);
                    i = close + r;
                }
            } else if (c == '!' && i + 1 < n && s.charAt(i + 1) == '[' && linkEnd(s, i + 1, nextBracket, matchingParen) > 0) {
                i++; // an image: its alt text stays, like a link's text
            } else if (c == '[' && linkEnd(s, i, nextBracket, matchingParen) > 0) {
                jumps.put(nextBracket[i + 1], linkEnd(s, i, nextBracket, matchingParen));
                i++;
            } else if (c == '<' && i + 1 < n && nextAngle[i + 1] > 0 && isAutolink(s, i + 1, nextAngle[i + 1])) {
                out.append(s, i + 1, nextAngle[i + 1]);
                i = nextAngle[i + 1] + 1;
            } else if (c == '*' || c == '_' || c == '~') {
                int r = run(s, i, c);
                if (!isDelimiter(s, i, r, c)) {
                    out.append(s, i, i + r);
                }
                i += r;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString().strip();
    }

    /**
     * For a '[' at {@code i}: the index after its "](dest)" or "][ref]", or -1 when it is no link.
     * {@code matchingParen} lets a destination hold balanced parentheses, as URLs do.
     */
    private static int linkEnd(String s, int i, int[] nextBracket, int[] matchingParen) {
        int n = s.length();
        int close = i + 1 < n ? nextBracket[i + 1] : -1;
        if (close < 0 || close + 2 >= n) {
            return -1;
        }
        char after = s.charAt(close + 1);
        int end = after == '(' ? matchingParen[close + 1] : after == '[' ? nextBracket[close + 2] : -1;
        return end < 0 ? -1 : end + 1;
    }

    private static boolean isAutolink(String s, int from, int to) {
        String inner = s.substring(from, Math.min(to, from + 8));
        if (!(inner.startsWith("http://") || inner.startsWith("https://") || inner.startsWith("mailto:"))) {
            return false;
        }
        for (int k = from; k < to; k++) {
            if (Character.isWhitespace(s.charAt(k)) || s.charAt(k) == '<') {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a run of * _ or ~ is emphasis (dropped) rather than a character ("5 * 3",
     * snake_case, a single ~): it must touch a word on one side, '_' not inside a word, '~' doubled.
     */
    private static boolean isDelimiter(String s, int i, int r, char c) {
        char before = i > 0 ? s.charAt(i - 1) : ' ';
        char after = i + r < s.length() ? s.charAt(i + r) : ' ';
        boolean left = !Character.isWhitespace(after);
        boolean right = !Character.isWhitespace(before);
        if (c == '_' && Character.isLetterOrDigit(before) && Character.isLetterOrDigit(after)) {
            return false;
        }
        if (c == '~' && r != 2) {
            return false;
        }
        return left || right;
    }

    /** Where the next run of exactly {@code r} backticks starts, from {@code from}; -1 if none. */
    private static int closingTicks(String s, int from, int r) {
        int k = from;
        while (k < s.length()) {
            if (s.charAt(k) == '`') {
                int len = run(s, k, '`');
                if (len == r) {
                    return k;
                }
                k += len;
            } else {
                k++;
            }
        }
        return -1;
    }

    private static int run(String s, int i, char c) {
        int k = i;
        while (k < s.length() && s.charAt(k) == c) {
            k++;
        }
        return k - i;
    }

    /** For each index, the first index at or after it holding {@code c}; -1 when there is none. */
    private static int[] nextIndex(String s, char c) {
        int[] next = new int[s.length() + 1];
        next[s.length()] = -1;
        for (int k = s.length() - 1; k >= 0; k--) {
            next[k] = s.charAt(k) == c ? k : next[k + 1];
        }
        return next;
    }

    /** For each '(' the index of the ')' that closes it, by one pass with a stack; -1 elsewhere. */
    private static int[] matchingParens(String s) {
        int[] match = new int[s.length() + 1];
        java.util.Arrays.fill(match, -1);
        int[] open = new int[s.length()];
        int depth = 0;
        for (int k = 0; k < s.length(); k++) {
            if (s.charAt(k) == '(') {
                open[depth++] = k;
            } else if (s.charAt(k) == ')' && depth > 0) {
                match[open[--depth]] = k;
            }
        }
        return match;
    }

    private static boolean isAsciiPunctuation(char c) {
        return c < 128 && "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".indexOf(c) >= 0;
    }

    /** Lines joined, trailing spaces gone, runs of blank lines cut to one. */
    private static String join(List<String> lines) {
        StringBuilder out = new StringBuilder();
        boolean blank = false;
        for (String l : lines) {
            String line = l.stripTrailing();
            if (line.isEmpty()) {
                blank = !out.isEmpty();
                continue;
            }
            if (!out.isEmpty()) {
                out.append(blank ? "\n\n" : "\n");
            }
            out.append(line);
            blank = false;
        }
        return out.toString();
    }
}
