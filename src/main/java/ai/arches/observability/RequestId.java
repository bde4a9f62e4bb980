package ai.arches.observability;

import java.util.UUID;

/** The id of one request, echoed in X-Request-Id, logs and problem responses. */
public record RequestId(String value) {
    private static final int MAX_LENGTH = 128;

    /** Keeps a caller's id when it is short and plain (so it cannot forge log lines); else makes one. */
    public static RequestId fromHeader(String header) {
        if (header != null && !header.isEmpty() && header.length() <= MAX_LENGTH && plain(header)) {
            return new RequestId(header);
        }
        return new RequestId(UUID.randomUUID().toString());
    }

    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
