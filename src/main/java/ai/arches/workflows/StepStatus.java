package ai.arches.workflows;

import java.util.Locale;

/** A step's state; the wire name is the lower-case constant name. */
public enum StepStatus {
    PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, CANCELLED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this != PENDING && this != RUNNING;
    }

    static StepStatus of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
