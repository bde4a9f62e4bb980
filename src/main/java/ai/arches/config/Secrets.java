package ai.arches.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The secret values of a configuration, which {@link ConfigException} masks before an error
 * leaves {@link ConfigLoader}: the secret settings' values and the passwords inside the URLs,
 * raw and percent-decoded, found without parsing (a URL in error may not parse).
 */
final class Secrets {
    private Secrets() {}

    /** Settings whose values are never printed, in whole or in part. */
    static final List<String> KEYS =
            List.of("database.password", "auth.token_secret", "embedding.openai.api_key", "metrics.token",
                    "workflows.summarize.api_key");

    /** The secret values, and the passwords inside the URLs, raw and decoded. */
    static List<String> in(Map<String, String> values) {
        List<String> out = new ArrayList<>();
        for (String key : KEYS) {
            String v = values.getOrDefault(key, "");
            out.add(v);
            out.add(v.trim());
        }
        for (String key : List.of("database.url", "redis.url")) {
            String password = urlPassword(values.getOrDefault(key, ""));
            if (!password.isEmpty()) {
                out.add(password);
                out.add(URLDecoder.decode(password.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        // Longest first, so a secret containing another is masked whole.
        out.removeIf(String::isEmpty);
        out.sort(Comparator.comparingInt(String::length).reversed());
        return out;
    }

    /** The password of scheme://user:password@host/..., found without parsing (the URL may be invalid). */
    private static String urlPassword(String url) {
        int start = url.indexOf("://");
        if (start < 0) {
            return "";
        }
        String rest = url.substring(start + 3);
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        int at = authority.lastIndexOf('@');
        if (at < 0) {
            return "";
        }
        String userInfo = authority.substring(0, at);
        int colon = userInfo.indexOf(':');
        return colon < 0 ? "" : userInfo.substring(colon + 1);
    }

}
