package ai.arches.observability;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** The id of one request, echoed in X-Request-Id, logs and problem responses. */
public record RequestId(String value) {
    private static final int MAX_LENGTH = 128;

    /** Keeps a caller's id when it is short and plain (so it cannot forge log lines); else makes one. */
    public static RequestId fromHeader(String header) {
        if (header != null && !header.isEmpty() && header.length() <= MAX_LENGTH && plain(header)) {
            return new RequestId(header);
        }
        // Ids need to be unique, not unpredictable: UUID.randomUUID() draws from SecureRandom,
        // which serializes every request of the node on one lock.
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new RequestId(new UUID(r.nextLong(), r.nextLong()).toString());
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
