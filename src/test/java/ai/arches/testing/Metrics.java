package ai.arches.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one counter or timer count from a server's /metrics, summed over matching series. */
public final class Metrics {
    private Metrics() {}

    public static double value(Api api, String name, String labelFragment) {
        String text = api.get("/metrics", null).text();
        double total = 0;
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(text);
        while (m.find()) {
            if (m.group(1).contains(labelFragment)) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** A series without labels, such as a plain counter; 0 when absent. */
    public static double unlabelled(Api api, String name) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + " ([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(api.get("/metrics", null).text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** How many times PostgreSQL ran the named statement. */
    public static double queries(Api api, String queryType) {
        return value(api, "db_query_duration_seconds_count", "query_type=\"" + queryType + "\"");
    }
}
