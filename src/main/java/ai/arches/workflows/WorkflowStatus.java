package ai.arches.workflows;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A workflow's lifecycle state; the wire name is the lower-case constant name. */
public enum WorkflowStatus {
    DRAFT, ACTIVE, PAUSED, ARCHIVED;

    /** Wire names in declaration order, for input parsing and validation messages. */
    public static final Map<String, WorkflowStatus> BY_NAME;

    static {
        Map<String, WorkflowStatus> m = new LinkedHashMap<>();
        for (WorkflowStatus s : values()) {
            m.put(s.wire(), s);
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
