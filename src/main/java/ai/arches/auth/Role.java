package ai.arches.auth;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Organization roles, ranked: owner > admin > member > viewer. */
public enum Role {
    VIEWER, MEMBER, ADMIN, OWNER;

    /** Wire names in rank order, for validation messages and input parsing. */
    public static final Map<String, Role> BY_NAME;

    static {
        Map<String, Role> m = new LinkedHashMap<>();
        for (Role r : values()) {
            m.put(r.wire(), r);
        }
        BY_NAME = java.util.Collections.unmodifiableMap(m);
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean atLeast(Role other) {
        return compareTo(other) >= 0;
    }

    public static Optional<Role> parse(String s) {
        return Optional.ofNullable(BY_NAME.get(s));
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String json() {
        return wire();
    }
}
