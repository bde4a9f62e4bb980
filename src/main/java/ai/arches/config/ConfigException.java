package ai.arches.config;

import java.util.Collection;
import java.util.regex.Pattern;

/**
 * A setting is missing or out of bounds; the message names the key and the bound it broke. It
 * never carries a secret: passwords in URLs are masked here, and {@link ConfigLoader} masks the
 * values of the secret settings before the exception leaves it.
 */
public final class ConfigException extends RuntimeException {
    /** scheme://user:password@ (the password may hold anything but '@' and '/'). */
    private static final Pattern URL_PASSWORD = Pattern.compile("(://[^/@:\\s]*:)[^/@]*@");
    /** password=... in a JDBC or query string. */
    private static final Pattern QUERY_PASSWORD = Pattern.compile("(?i)(password=)[^&\\s'\"]*");
    static final String MASK = "***";

    public ConfigException(String key, String problem) {
        super(mask(key + ": " + problem));
    }

    private ConfigException(String message, boolean alreadyMasked) {
        super(message);
    }

    /** The same error with every occurrence of the given secret values masked. */
    ConfigException without(Collection<String> secrets) {
        String m = getMessage();
        for (String s : secrets) {
            if (s != null && !s.isEmpty()) {
                m = m.replace(s, MASK);
            }
        }
        return new ConfigException(m, true);
    }

    static String mask(String s) {
        return QUERY_PASSWORD.matcher(URL_PASSWORD.matcher(s).replaceAll("$1" + MASK + "@")).replaceAll("$1" + MASK);
    }
}
