package ai.arches.workflows;

import java.util.Locale;

/** A run's state; the wire name is the lower-case constant name. */
public enum RunStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    static RunStatus of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
