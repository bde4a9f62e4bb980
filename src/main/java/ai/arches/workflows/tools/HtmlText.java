package ai.arches.workflows.tools;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The visible text of an HTML document, found by one forward scan. Every search starts where the
 * previous one ended and every look-ahead is bounded, so hostile input (unclosed tags or quotes,
 * 200k '<', a comment that never ends) costs linear time; no regular expression is involved.
 *
 * <p>It is not an HTML5 parser: it knows tags and their quoted attributes, comments, raw-text
 * elements and character references, which is what text extraction needs. Where it must guess
 * it guesses like a browser: an unclosed tag or comment swallows the rest of the input, a
 * {@code <} that starts no tag is text, {@code </script} inside a script's string ends it.
 */
final class HtmlText {
    record Result(String text, String title) {}

    /** Elements whose content is never visible text (title is kept aside as the title). */
    private static final Set<String> RAW = Set.of("script", "style", "noscript", "template", "title", "textarea",
            "xmp", "iframe", "noembed", "noframes", "plaintext");
    /** What a head may hold; any other start tag means the body began without its tag, as browsers read it. */
    private static final Set<String> HEAD_ELEMENTS = Set.of("meta", "link", "base", "basefont", "bgsound", "title",
            "style", "script", "noscript", "template");
    /** Line breaks an element's start or end tag puts into the text: 2 sets a paragraph apart. */
    private static final Map<String, Integer> BREAKS = new HashMap<>();
    /** Character references by name: the common ones, not the whole HTML5 table. */
    private static final Map<String, Integer> ENTITIES = new HashMap<>();
    /** Names a document may use without the closing ';' (legacy pages do). */
    private static final Set<String> BARE = Set.of("amp", "lt", "gt", "quot", "nbsp", "copy", "reg");
    private static final int MAX_ENTITY_NAME = 32;

    static {
        for (String t : "p h1 h2 h3 h4 h5 h6 blockquote pre ul ol dl table section article header footer nav aside "
                .concat("main figure form fieldset address details hr").split(" ")) {
            BREAKS.put(t, 2);
        }
        for (String t : "br div li dt dd tr caption figcaption summary option legend thead tbody tfoot".split(" ")) {
            BREAKS.put(t, 1);
        }
        // ISO-8859-1's printable upper half, U+00A0..U+00FF, in order.
        String[] latin1 = ("nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg "
                + "plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave "
                + "Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH "
                + "Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig "
                + "agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc "
                + "iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn "
                + "yuml").split(" ");
        if (latin1.length != 96) {
            throw new IllegalStateException("the Latin-1 entity table has " + latin1.length + " names, not 96");
        }
        for (int k = 0; k < latin1.length; k++) {
            ENTITIES.put(latin1[k], 0xA0 + k);
        }
        String[] more = ("quot 34 amp 38 apos 39 lt 60 gt 62 OElig 338 oelig 339 Scaron 352 scaron 353 Yuml 376 "
                + "fnof 402 circ 710 tilde 732 ensp 8194 emsp 8195 thinsp 8201 zwnj 8204 zwj 8205 lrm 8206 rlm 8207 "
                + "ndash 8211 mdash 8212 lsquo 8216 rsquo 8217 sbquo 8218 ldquo 8220 rdquo 8221 bdquo 8222 "
                + "dagger 8224 Dagger 8225 bull 8226 hellip 8230 permil 8240 prime 8242 Prime 8243 lsaquo 8249 "
                + "rsaquo 8250 euro 8364 trade 8482 larr 8592 uarr 8593 rarr 8594 darr 8595 harr 8596 minus 8722 "
                + "infin 8734 asymp 8776 ne 8800 le 8804 ge 8805").split(" ");
        for (int k = 0; k < more.length; k += 2) {
            ENTITIES.put(more[k], Integer.parseInt(more[k + 1]));
        }
    }

    private HtmlText() {}

    static Result extract(String html) {
        int n = html.length();
        Text out = new Text();
        String title = null;
        // Head content (meta, link, base) is never shown; the title inside it is taken aside.
        boolean inHead = false;
        int i = 0;
        while (i < n) {
            char c = html.charAt(i);
            if (c == '&') {
                i = entity(html, i, inHead ? null : out);
                continue;
            }
            if (c != '<') {
                if (!inHead) {
                    out.add(c);
                }
                i++;
                continue;
            }
            if (html.startsWith("!--", i + 1)) {
                // "<!-->" and "<!--->" are whole (empty) comments, hence the search from i + 2.
                int end = html.indexOf("-->", i + 2);
                i = end < 0 ? n : end + 3;
                continue;
            }
            if (i + 1 < n && (html.charAt(i + 1) == '!' || html.charAt(i + 1) == '?')) {
                // Doctype, CDATA, processing instruction: a bogus comment ending at the first '>'.
                int end = html.indexOf('>', i + 2);
                i = end < 0 ? n : end + 1;
                continue;
            }
            boolean closing = i + 1 < n && html.charAt(i + 1) == '/';
            int nameStart = i + (closing ? 2 : 1);
            if (nameStart >= n || !isAsciiLetter(html.charAt(nameStart))) {
                if (!inHead) {
                    out.add('<');
                }
                i++;
                continue;
            }
            int nameEnd = nameStart;
            while (nameEnd < n && isNameChar(html.charAt(nameEnd))) {
                nameEnd++;
            }
            String name = html.substring(nameStart, nameEnd).toLowerCase(Locale.ROOT);
            int end = tagEnd(html, nameEnd);
            if (end < 0) {
                break; // an unclosed tag swallows the rest, as in a browser
            }
            i = end;
            if (!closing && RAW.contains(name)) {
                int close = closeTag(html, end, name);
                if (name.equals("title") && title == null) {
                    Text t = new Text();
                    String inner = html.substring(end, close < 0 ? n : close);
                    for (int k = 0; k < inner.length(); ) {
                        k = inner.charAt(k) == '&' ? entity(inner, k, t) : add(t, inner, k);
                    }
                    title = t.toString();
                }
                int after = close < 0 ? -1 : tagEnd(html, close + 2 + name.length());
                i = after < 0 ? n : after;
                continue;
            }
            if (inHead && !closing && !HEAD_ELEMENTS.contains(name) && !name.equals("head")) {
                inHead = false;
            }
            switch (name) {
                case "head" -> inHead = !closing;
                case "body" -> inHead = false;
                case "td", "th" -> out.space();
                default -> out.lineBreak(BREAKS.getOrDefault(name, 0));
            }
        }
        return new Result(out.toString(), title == null || title.isEmpty() ? null : title);
    }

    private static int add(Text t, String s, int k) {
        t.add(s.charAt(k));
        return k + 1;
    }

    /**
     * The index after the tag's closing '>', scanning attributes from {@code from}; -1 when the
     * tag never closes. A quote opens a value only right after '=' (as in HTML), so the
     * apostrophe of {@code <p title=it's>} does not swallow the page.
     */
    private static int tagEnd(String s, int from) {
        boolean afterEquals = false;
        for (int j = from; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '>') {
                return j + 1;
            }
            if ((c == '"' || c == '\'') && afterEquals) {
                int q = s.indexOf(c, j + 1);
                if (q < 0) {
                    return -1;
                }
                j = q;
                afterEquals = false;
            } else if (c == '=') {
                afterEquals = true;
            } else if (!Character.isWhitespace(c)) {
                afterEquals = false;
            }
        }
        return -1;
    }

    /** Where {@code </name} (any case, then not a name character) starts, from {@code from}; -1 if never. */
    private static int closeTag(String s, int from, String name) {
        int k = from;
        while (true) {
            int lt = s.indexOf("</", k);
            if (lt < 0) {
                return -1;
            }
            int after = lt + 2 + name.length();
            if (s.regionMatches(true, lt + 2, name, 0, name.length())
                    && (after >= s.length() || !isNameChar(s.charAt(after)))) {
                return lt;
            }
            k = lt + 2;
        }
    }

    /**
     * Decodes the character reference at {@code i} (an '&') into {@code out} (null: drop it) and
     * returns the index after it; an '&' that starts no known reference is itself text.
     */
    static int entity(String s, int i, Text out) {
        int n = s.length();
        int j = i + 1;
        int cp = -1;
        if (j < n && s.charAt(j) == '#') {
            j++;
            boolean hex = j < n && (s.charAt(j) == 'x' || s.charAt(j) == 'X');
            if (hex) {
                j++;
            }
            int digitsStart = j;
            long v = 0;
            while (j < n && Character.digit(s.charAt(j), hex ? 16 : 10) >= 0) {
                // Past U+10FFFF the value no longer matters; keep counting digits without overflow.
                v = Math.min(v * (hex ? 16 : 10) + Character.digit(s.charAt(j), hex ? 16 : 10), 0x110000);
                j++;
            }
            if (j > digitsStart) {
                cp = v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ? 0xFFFD : (int) v;
                if (j < n && s.charAt(j) == ';') {
                    j++;
                }
            }
        } else {
            while (j < n && j - i <= MAX_ENTITY_NAME && isAsciiLetterOrDigit(s.charAt(j))) {
                j++;
            }
            String name = s.substring(i + 1, j);
            Integer known = ENTITIES.get(name);
            boolean semicolon = j < n && s.charAt(j) == ';';
            if (known != null && (semicolon || BARE.contains(name))) {
                cp = known;
                j += semicolon ? 1 : 0;
            }
        }
        if (cp < 0) {
            if (out != null) {
                out.add('&');
            }
            return i + 1;
        }
        if (out != null) {
            out.add(cp);
        }
        return j;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return isAsciiLetter(c) || (c >= '0' && c <= '9');
    }

    private static boolean isNameChar(char c) {
        return isAsciiLetterOrDigit(c) || c == '-' || c == ':' || c == '_';
    }

    /**
     * Text with whitespace collapsed: a run of spaces becomes one space, requested line breaks
     * win over spaces (at most two in a row, a paragraph), and nothing leads or trails.
     */
    static final class Text {
        private final StringBuilder out = new StringBuilder();
        private boolean space;
        private int breaks;

        void add(int cp) {
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                space = true;
                return;
            }
            if (!out.isEmpty()) {
                if (breaks > 0) {
                    out.repeat('\n', breaks);
                } else if (space) {
                    out.append(' ');
                }
            }
            breaks = 0;
            space = false;
            out.appendCodePoint(cp);
        }

        void space() {
            space = true;
        }

        void lineBreak(int count) {
            breaks = Math.max(breaks, Math.min(count, 2));
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
