package ai.arches.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Plain text from the machine's manual pages (/usr/share/man/man1..8), the search benchmark's
 * real prose. Roff is reduced to its words: comments, macro definitions, conditionals and
 * formatting requests are dropped; headings, tags and the text arguments of font and mdoc
 * macros are kept; escapes become the characters they print, or nothing. Not a typesetter:
 * good enough that every passage reads as the page does.
 */
final class ManPages {
    /** One page: {@code name(section) – description}, and its text without the NAME section. */
    record Page(String path, String name, String section, String description, String body) {
        String title() {
            String head = name + "(" + section + ")";
            return description.isEmpty() ? head : head + " – " + description;
        }
    }

    /** Bump when the extraction changes, so cached corpora are rebuilt. */
    static final int VERSION = 1;

    private static final Set<String> SKIP_BLOCK = Set.of("de", "de1", "dei", "am", "am1", "ami", "ig");
    private static final Set<String> ALTERNATING = Set.of("BR", "BI", "IB", "IR", "RB", "RI");
    private static final Set<String> TEXT = Set.of("B", "I", "SM", "SB", "Em", "Sy", "Li", "Nm", "Ar",
            "Cm", "Pa", "Ev", "Va", "Dv", "Ic", "Fn", "Fa", "Ft", "Dl", "D1", "Ql", "Dq", "Sq", "Pq", "Op", "Xr",
            "Fl", "It", "Ad", "An", "Er", "Ms", "St", "Lk", "Mt", "No", "Qq", "Aq", "Vt", "Cd", "Fd", "In", "Tn",
            "Ux", "Bx", "At", "Nx", "Fx", "Ox", "Bsx", "Dx", "Lb", "Rs", "%A", "%T", "%B", "%J", "%D", "%R",
            "UR", "MT");
    /** mdoc macro names that may appear as arguments of other mdoc macros ({@code .Op Fl v Ar file}). */
    private static final Set<String> MDOC_INLINE = Set.of("Fl", "Ar", "Cm", "Pa", "Ev", "Va", "Dv", "Ic", "Op",
            "Oo", "Oc", "Ns", "No", "Xr", "Em", "Sy", "Li", "Nm", "Ql", "Dq", "Sq", "Pq", "Qq", "Aq", "Ta", "Fn",
            "Fa", "Ft", "Ad", "Er", "Ms", "Tn", "Ux", "Bx", "Pf", "Sx", "Xo", "Xc", "Bq", "Brq", "Eo", "Ec", "Lk",
            "Mt", "Vt", "Qo", "Qc", "Do", "Dc", "So", "Sc", "Po", "Pc", "Bo", "Bc", "At", "St", "Cd");
    private static final Map<String, String> GLYPHS = Map.ofEntries(
            Map.entry("em", "—"), Map.entry("en", "–"), Map.entry("hy", "-"), Map.entry("bu", "•"),
            Map.entry("aq", "'"), Map.entry("dq", "\""), Map.entry("lq", "“"), Map.entry("rq", "”"),
            Map.entry("oq", "‘"), Map.entry("cq", "’"), Map.entry("co", "©"), Map.entry("rg", "®"),
            Map.entry("tm", "™"), Map.entry("mu", "×"), Map.entry("de", "°"), Map.entry("+-", "±"),
            Map.entry("<=", "≤"), Map.entry(">=", "≥"), Map.entry("!=", "≠"), Map.entry("->", "→"),
            Map.entry("<-", "←"), Map.entry("ha", "^"), Map.entry("ti", "~"), Map.entry("rs", "\\"),
            Map.entry("sl", "/"), Map.entry("ba", "|"), Map.entry("or", "|"), Map.entry("ul", "_"),
            Map.entry("ga", "`"), Map.entry("aa", "´"), Map.entry("dg", "†"), Map.entry("pl", "+"),
            Map.entry("mi", "-"), Map.entry("eq", "="), Map.entry("lh", "☜"), Map.entry("rh", "☞"),
            Map.entry("Fo", "«"), Map.entry("Fc", "»"), Map.entry("fo", "‹"), Map.entry("fc", "›"),
            Map.entry("at", "@"), Map.entry("sh", "#"), Map.entry("Do", "$"), Map.entry("lB", "["),
            Map.entry("rB", "]"), Map.entry("lC", "{"), Map.entry("rC", "}"), Map.entry("la", "⟨"),
            Map.entry("ra", "⟩"), Map.entry("sq", "□"), Map.entry("ss", "ß"), Map.entry("'e", "é"),
            Map.entry(":u", "ü"), Map.entry(":o", "ö"), Map.entry(":a", "ä"), Map.entry("-D", "Ð"),
            Map.entry("L\"", "\""), Map.entry("R\"", "\""), Map.entry("C+", "C++"), Map.entry("Tm", "(TM)"),
            Map.entry("--", "—"), Map.entry("PI", "pi"), Map.entry("Aq", "'"));

    private ManPages() {}

    /** Every page file under /usr/share/man/man1..8, symbolic links left out, in path order. */
    static List<Path> files() throws IOException {
        List<Path> out = new ArrayList<>();
        for (int s = 1; s <= 8; s++) {
            Path dir = Path.of("/usr/share/man/man" + s);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.getFileName().toString().endsWith(".gz") && !Files.isSymbolicLink(p)
                        && Files.isRegularFile(p)).forEach(out::add);
            }
        }
        out.sort(null);
        return out;
    }

    /** The page's text, or empty when it is only a reference to another page ({@code .so}). */
    static Optional<Page> read(Path file) throws IOException {
        String roff;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            roff = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (roff.stripLeading().startsWith(".so ")) {
            return Optional.empty();
        }
        String base = file.getFileName().toString();
        base = base.substring(0, base.length() - ".gz".length());
        int dot = base.lastIndexOf('.');
        if (dot <= 0) {
            return Optional.empty();
        }
        return Optional.of(parse(file.toString(), base.substring(0, dot), base.substring(dot + 1), roff));
    }

    static Page parse(String path, String name, String section, String roff) {
        StringBuilder nameSection = new StringBuilder();
        StringBuilder body = new StringBuilder();
        StringBuilder out = body;
        String[] lines = roff.split("\r?\n", -1);
        int depth = 0;
        String endOfBlock = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (endOfBlock != null) {
                if (line.strip().equals(endOfBlock)) {
                    endOfBlock = null;
                }
                continue;
            }
            if (depth > 0) {
                // Inside a skipped conditional block: count braces until it closes.
                depth += braces(line);
                continue;
            }
            boolean control = !line.isEmpty() && (line.charAt(0) == '.' || line.charAt(0) == '\'');
            if (!control) {
                appendLine(out, text(line));
                continue;
            }
            String req = line.substring(1).stripLeading();
            if (req.startsWith("\\\"") || req.isEmpty()) {
                continue;
            }
            int sp = indexOfSpace(req);
            String macro = sp < 0 ? req : req.substring(0, sp);
            String args = sp < 0 ? "" : req.substring(sp + 1);
            if (SKIP_BLOCK.contains(macro)) {
                // .de NAME [END] and .ig [END] run until ".." or ".END".
                List<String> a = arguments(args);
                int endArg = macro.equals("ig") ? 0 : 1;
                endOfBlock = a.size() > endArg ? "." + a.get(endArg) : "..";
                continue;
            }
            if (macro.startsWith("if") || macro.startsWith("ie") || macro.startsWith("el")) {
                depth = Math.max(0, braces(line));
                continue;
            }
            switch (macro) {
                case "SH", "Sh", "SS", "Ss" -> {
                    String heading = joined(arguments(args), " ");
                    if (heading.isEmpty() && i + 1 < lines.length) {
                        heading = text(lines[++i]);
                    }
                    out = macro.equalsIgnoreCase("SH") && heading.strip().equalsIgnoreCase("NAME") ? nameSection : body;
                    if (out == body) {
                        out.append('\n').append(heading.strip()).append('\n');
                    }
                }
                case "IP", "HP", "It" -> {
                    List<String> a = arguments(args);
                    if (macro.equals("It")) {
                        appendLine(out, mdoc(a, name));
                    } else if (!a.isEmpty()) {
                        appendLine(out, a.getFirst());
                    }
                }
                case "Nd" -> appendLine(out, "- " + joined(arguments(args), " "));
                default -> {
                    if (ALTERNATING.contains(macro)) {
                        appendLine(out, joined(arguments(args), ""));
                    } else if (TEXT.contains(macro)) {
                        appendLine(out, Character.isUpperCase(macro.charAt(0)) && macro.length() == 2
                                && Character.isLowerCase(macro.charAt(1)) ? mdoc(prepend(macro, arguments(args)), name)
                                : joined(arguments(args), " "));
                    }
                }
            }
        }
        String nameLine = nameSection.toString().replaceAll("\\s+", " ").strip();
        String description = "";
        for (String sep : new String[] {" - ", " — ", " -- ", " – "}) {
            int at = nameLine.indexOf(sep);
            if (at >= 0) {
                description = nameLine.substring(at + sep.length()).strip();
                break;
            }
        }
        String text = body.toString().replaceAll("[ \\t]+", " ").replaceAll(" ?\\n ?", "\n")
                .replaceAll("\\n{3,}", "\n\n").strip();
        return new Page(path, name, section, description, text);
    }

    /** A line of text, escapes resolved. */
    static String text(String line) {
        StringBuilder sb = new StringBuilder(line.length());
        int n = line.length();
        for (int i = 0; i < n; i++) {
            char c = line.charAt(i);
            if (c != '\\' || i + 1 >= n) {
                sb.append(c);
                continue;
            }
            char e = line.charAt(++i);
            switch (e) {
                case '"', '#' -> i = n;
                case 'f', 'n', 'k', 'g', 'm', 'M', 'F', 'V', 'Y' -> i = skipName(line, i + 1) - 1;
                case '*' -> {
                    int end = skipName(line, i + 1);
                    String name = name(line, i + 1, end);
                    sb.append(switch (name) {
                        case "L\"", "R\"", "Aq", "C+", "Tm", "--", "PI" -> GLYPHS.get(name);
                        default -> "";
                    });
                    i = end - 1;
                }
                case '(', '[' -> {
                    int end = skipName(line, i);
                    String name = name(line, i, end);
                    if (name.startsWith("u") && name.length() >= 5 && name.substring(1).matches("[0-9A-Fa-f]{4,6}")) {
                        sb.appendCodePoint(Integer.parseInt(name.substring(1), 16));
                    } else {
                        sb.append(GLYPHS.getOrDefault(name, ""));
                    }
                    i = end - 1;
                }
                case 's' -> {
                    int j = i + 1;
                    if (j < n && (line.charAt(j) == '+' || line.charAt(j) == '-')) {
                        j++;
                    }
                    if (j < n && (line.charAt(j) == '(' || line.charAt(j) == '[' || line.charAt(j) == '\'')) {
                        i = skipName(line, j) - 1;
                    } else {
                        while (j < n && Character.isDigit(line.charAt(j)) && j < i + 4) {
                            j++;
                        }
                        i = j - 1;
                    }
                }
                case 'h', 'v', 'w', 'o', 'X', 'N', 'l', 'L', 'b', 'D', 'Z', 'x', 'S', 'H', 'R', 'A', 'B', 'C', 'O' -> {
                    if (i + 1 < n && line.charAt(i + 1) == '\'') {
                        int close = line.indexOf('\'', i + 2);
                        i = close < 0 ? n : close;
                    } else {
                        i = skipName(line, i + 1) - 1;
                    }
                }
                case '-' -> sb.append('-');
                case 'e', 'E', '\\' -> sb.append('\\');
                case ' ', '~', '0' -> sb.append(' ');
                case 't' -> sb.append(' ');
                case '.' -> sb.append('.');
                case '\'' -> sb.append('\'');
                case '`' -> sb.append('`');
                case '&', ')', '%', ':', '/', ',', '^', '|', 'c', 'd', 'u', 'a', 'p', 'r', 'z', '{', '}', '$' -> { }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    /** Index just past an escape's name: {@code (xx}, {@code [name]} or one character. */
    private static int skipName(String s, int i) {
        if (i >= s.length()) {
            return i;
        }
        char c = s.charAt(i);
        if (c == '(') {
            return Math.min(s.length(), i + 3);
        }
        if (c == '[') {
            int close = s.indexOf(']', i);
            return close < 0 ? s.length() : close + 1;
        }
        return i + 1;
    }

    private static String name(String s, int from, int end) {
        if (from >= s.length()) {
            return "";
        }
        char c = s.charAt(from);
        if (c == '(') {
            return s.substring(Math.min(from + 1, end), end);
        }
        if (c == '[') {
            return s.substring(from + 1, Math.max(from + 1, end - 1));
        }
        return s.substring(from, end);
    }

    /** Net count of {@code \{} minus {@code \}} on a line. */
    private static int braces(String line) {
        int d = 0;
        for (int i = 0; i + 1 < line.length(); i++) {
            if (line.charAt(i) == '\\') {
                char c = line.charAt(i + 1);
                if (c == '{') {
                    d++;
                } else if (c == '}') {
                    d--;
                }
                i++;
            }
        }
        return d;
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Macro arguments: space separated, double quotes group (a doubled quote is a quote), escapes resolved. */
    static List<String> arguments(String args) {
        List<String> out = new ArrayList<>();
        String s = text(args);
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && s.charAt(i) == ' ') {
                i++;
            }
            if (i >= s.length()) {
                break;
            }
            StringBuilder a = new StringBuilder();
            if (s.charAt(i) == '"') {
                i++;
                while (i < s.length()) {
                    char c = s.charAt(i);
                    if (c == '"') {
                        if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                            a.append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    a.append(c);
                    i++;
                }
            } else {
                while (i < s.length() && s.charAt(i) != ' ') {
                    a.append(s.charAt(i++));
                }
            }
            out.add(a.toString());
        }
        return out;
    }

    /**
     * mdoc words: {@code Fl v} becomes {@code -v}, {@code Xr ls 1} becomes {@code ls(1)}, a bare
     * {@code Nm} the page's name; other macro names go.
     */
    private static String mdoc(List<String> a, String page) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.size(); i++) {
            String w = a.get(i);
            if (w.equals("Fl")) {
                String next = i + 1 < a.size() && !MDOC_INLINE.contains(a.get(i + 1)) ? a.get(++i) : "";
                word(sb, "-" + next);
            } else if (w.equals("Nm")) {
                boolean named = i + 1 < a.size() && !MDOC_INLINE.contains(a.get(i + 1));
                word(sb, named ? a.get(++i) : page);
            } else if (w.equals("Xr") && i + 2 < a.size()) {
                word(sb, a.get(i + 1) + "(" + a.get(i + 2) + ")");
                i += 2;
            } else if (!MDOC_INLINE.contains(w) && !w.equals("It")) {
                word(sb, w);
            }
        }
        return sb.toString();
    }

    private static List<String> prepend(String macro, List<String> args) {
        List<String> out = new ArrayList<>(args.size() + 1);
        out.add(macro);
        out.addAll(args);
        return out;
    }

    private static void word(StringBuilder sb, String w) {
        if (w.isEmpty()) {
            return;
        }
        boolean punct = w.length() == 1 && ".,;:)]!?".indexOf(w.charAt(0)) >= 0;
        if (!sb.isEmpty() && !punct) {
            sb.append(' ');
        }
        sb.append(w);
    }

    private static String joined(List<String> parts, String sep) {
        return String.join(sep, parts).strip();
    }

    private static void appendLine(StringBuilder out, String line) {
        String s = line.strip();
        if (!s.isEmpty()) {
            out.append(s).append(' ');
        }
    }
}
