package ai.arches.admin.database;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Makes a statement's text as the code sent it ({@code ?} parameters, literal constants) and as
 * pg_stat_statements shows it ({@code $n} for parameters and for the constants it folded away)
 * comparable: every parameter and constant becomes {@code ?}, comments go, whitespace and case
 * are evened out, and lists of parameters (an IN list, the rows the driver's batch rewrite
 * inlines) shrink to one. Two statements that differ only in constants compare equal, which is
 * what pg_stat_statements does too.
 */
final class QueryText {
    private static final Pattern LIST = Pattern.compile("\\?(?: ?, ?\\?)+");
    private static final Pattern ROWS = Pattern.compile("\\(\\?\\)(?: ?, ?\\(\\?\\))+");
    private static final Pattern WRITES = Pattern.compile(
            "(^|[ (])(insert into|update [a-z0-9_.\"]+ set|delete from|merge into)[ (]"
                    + "|for (update|share|no key update|key share)");

    private QueryText() {}

    static String normalize(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        int n = sql.length();
        int i = 0;
        boolean space = false;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                space = true;
                i++;
                continue;
            }
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
                space = true;
                continue;
            }
            if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                space = true;
                continue;
            }
            if (space && !out.isEmpty()) {
                out.append(' ');
            }
            space = false;
            if (c == '\'') {
                i = skipQuoted(sql, i, '\'');
                out.append('?');
            } else if (c == '"') {
                int end = skipQuoted(sql, i, '"');
                out.append(sql, i, end);
                i = end;
            } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
                i++;
                while (i < n && Character.isDigit(sql.charAt(i))) {
                    i++;
                }
                out.append('?');
            } else if (c == '$') {
                i = skipDollarQuoted(sql, i);
                out.append('?');
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1)))) {
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
                    i++;
                }
                // A unary minus belongs to the constant: pg_stat_statements folds "-1" whole.
                if (unaryMinusBefore(out)) {
                    out.setLength(out.length() - 1);
                    trimEnd(out);
                    if (!out.isEmpty() && out.charAt(out.length() - 1) != '(') {
                        out.append(' ');
                    }
                }
                out.append('?');
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '$')) {
                    i++;
                }
                String word = sql.substring(start, i).toLowerCase(Locale.ROOT);
                if (i < n && sql.charAt(i) == '\'' && (word.equals("e") || word.equals("x") || word.equals("b"))) {
                    i = skipQuoted(sql, i, '\'');
                    out.append('?');
                } else {
                    out.append(switch (word) {
                        case "true", "false", "null" -> "?";
                        default -> word;
                    });
                }
            } else {
                out.append(c);
                i++;
            }
        }
        String s = out.toString();
        while (s.endsWith(";") || s.endsWith(" ")) {
            s = s.substring(0, s.length() - 1);
        }
        s = LIST.matcher(s).replaceAll("?");
        return ROWS.matcher(s).replaceAll("(?)");
    }

    /** True when the statement writes or locks rows (judged from its normalized text). */
    static boolean writes(String normalized) {
        return WRITES.matcher(normalized).find();
    }

    private static int skipQuoted(String sql, int start, char quote) {
        int i = start + 1;
        while (i < sql.length()) {
            if (sql.charAt(i) == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return i;
    }

    private static int skipDollarQuoted(String sql, int start) {
        int tagEnd = sql.indexOf('$', start + 1);
        if (tagEnd < 0) {
            return start + 1;
        }
        String tag = sql.substring(start, tagEnd + 1);
        int end = sql.indexOf(tag, tagEnd + 1);
        return end < 0 ? sql.length() : end + tag.length();
    }

    private static boolean unaryMinusBefore(StringBuilder out) {
        int len = out.length();
        if (len == 0 || out.charAt(len - 1) != '-') {
            return false;
        }
        int j = len - 2;
        while (j >= 0 && out.charAt(j) == ' ') {
            j--;
        }
        return j < 0 || "(,=<>+-*/".indexOf(out.charAt(j)) >= 0;
    }

    private static void trimEnd(StringBuilder out) {
        while (!out.isEmpty() && out.charAt(out.length() - 1) == ' ') {
            out.setLength(out.length() - 1);
        }
    }
}
