package ai.arches.config;

/** A setting is missing or out of bounds; the message names the key and the bound it broke. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String key, String problem) {
        super(key + ": " + problem);
    }
}
