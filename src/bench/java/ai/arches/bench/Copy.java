package ai.arches.bench;

/** Rows in COPY's text format, for the seeders (BenchData, SearchCorpus). */
final class Copy {
    private Copy() {}

    /** One row: tab-separated, \N for null, backslash escapes; a value starting {@code \\x} is bytea hex as is. */
    static void row(StringBuilder sb, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append('\t');
            }
            Object v = values[i];
            if (v == null) {
                sb.append("\\N");
            } else if (v instanceof String s && s.startsWith("\\\\x")) {
                sb.append(s);
            } else {
                escape(sb, v.toString());
            }
        }
        sb.append('\n');
    }

    /** pgvector's text form, {@code [x,y,...]}. */
    static String vector(float[] v) {
        StringBuilder sb = new StringBuilder(v.length * 12);
        sb.append('[');
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(v[i]);
        }
        return sb.append(']').toString();
    }

    private static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(ch);
            }
        }
    }
}
