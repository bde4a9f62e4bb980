package ai.arches.workflows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.common.FieldError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How the executor treats a node: {@code config.retry} ({@code maxAttempts}, default 1;
 * {@code backoff}: a number of milliseconds, or {@code {initialMs, maxMs, multiplier}}) and
 * {@code config.timeout} (milliseconds, or a duration such as "30s"). Backoff is exponential with
 * equal jitter: attempt n waits between half and all of min(maxMs, initialMs × multiplier^(n-1)),
 * so retries of many runs failing together spread out instead of arriving in lockstep.
 */
record StepPolicy(int maxAttempts, long initialMs, long maxMs, double multiplier, Duration timeout) {
    static final int MAX_ATTEMPTS = 20;
    private static final long DEFAULT_INITIAL_MS = 500;
    private static final long DEFAULT_MAX_MS = 60_000;
    private static final Duration MAX_TIMEOUT = Duration.ofHours(24);
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)");
    private static final Set<String> RETRY_KEYS = Set.of("maxAttempts", "backoff");
    private static final Set<String> BACKOFF_KEYS = Set.of("initialMs", "maxMs", "multiplier");

    static StepPolicy of(ObjectNode config, Duration defaultTimeout) {
        List<FieldError> problems = new ArrayList<>();
        StepPolicy p = parse(config, defaultTimeout, "config", problems);
        if (!problems.isEmpty()) {
            // Checked when the workflow was saved; a definition stored before that check existed still runs.
            return new StepPolicy(1, DEFAULT_INITIAL_MS, DEFAULT_MAX_MS, 2.0, defaultTimeout);
        }
        return p;
    }

    static List<FieldError> check(ObjectNode config, String at) {
        List<FieldError> problems = new ArrayList<>();
        parse(config, Duration.ofMinutes(5), at, problems);
        return problems;
    }

    /** When attempt {@code attempt} (1-based, just failed) may be followed by the next, or -1 when none is left. */
    long backoffMs(int attempt) {
        if (attempt >= maxAttempts) {
            return -1;
        }
        double d = Math.min(maxMs, initialMs * Math.pow(multiplier, attempt - 1));
        long half = (long) (d / 2);
        return half + ThreadLocalRandom.current().nextLong((long) d - half + 1);
    }

    private static StepPolicy parse(ObjectNode config, Duration defaultTimeout, String at, List<FieldError> problems) {
        int maxAttempts = 1;
        long initial = DEFAULT_INITIAL_MS;
        long max = DEFAULT_MAX_MS;
        double multiplier = 2.0;
        Duration timeout = defaultTimeout;
        JsonNode retry = config == null ? null : config.get("retry");
        if (retry != null) {
            if (!retry.isObject()) {
                problems.add(new FieldError(at + ".retry", "must be an object such as {\"maxAttempts\": 3, \"backoff\": 500}"));
            } else {
                unknown(retry, RETRY_KEYS, at + ".retry", problems);
                JsonNode n = retry.get("maxAttempts");
                if (n != null) {
                    if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > MAX_ATTEMPTS) {
                        problems.add(new FieldError(at + ".retry.maxAttempts", "must be a whole number from 1 to " + MAX_ATTEMPTS));
                    } else {
                        maxAttempts = n.asInt();
                    }
                }
                JsonNode b = retry.get("backoff");
                if (b != null && b.isNumber()) {
                    initial = millis(b, at + ".retry.backoff", problems);
                } else if (b != null && b.isObject()) {
                    unknown(b, BACKOFF_KEYS, at + ".retry.backoff", problems);
                    if (b.has("initialMs")) {
                        initial = millis(b.get("initialMs"), at + ".retry.backoff.initialMs", problems);
                    }
                    if (b.has("maxMs")) {
                        max = millis(b.get("maxMs"), at + ".retry.backoff.maxMs", problems);
                    }
                    JsonNode m = b.get("multiplier");
                    if (m != null) {
                        if (!m.isNumber() || m.asDouble() < 1 || m.asDouble() > 10) {
                            problems.add(new FieldError(at + ".retry.backoff.multiplier", "must be a number from 1 to 10"));
                        } else {
                            multiplier = m.asDouble();
                        }
                    }
                } else if (b != null) {
                    problems.add(new FieldError(at + ".retry.backoff",
                            "must be milliseconds or {\"initialMs\", \"maxMs\", \"multiplier\"}"));
                }
                if (max < initial) {
                    max = initial;
                }
            }
        }
        JsonNode t = config == null ? null : config.get("timeout");
        if (t != null) {
            timeout = timeout(t, at + ".timeout", problems, defaultTimeout);
        }
        return new StepPolicy(maxAttempts, initial, max, multiplier, timeout);
    }

    private static long millis(JsonNode n, String at, List<FieldError> problems) {
        if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > 3_600_000) {
            problems.add(new FieldError(at, "must be whole milliseconds from 0 to 3600000"));
            return DEFAULT_INITIAL_MS;
        }
        return n.asLong();
    }

    private static Duration timeout(JsonNode t, String at, List<FieldError> problems, Duration fallback) {
        Duration d = null;
        if (t.isIntegralNumber()) {
            d = Duration.ofMillis(t.asLong());
        } else if (t.isTextual()) {
            Matcher m = DURATION.matcher(t.textValue().strip());
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            }
        }
        if (d == null || d.toMillis() < 1 || d.compareTo(MAX_TIMEOUT) > 0) {
            problems.add(new FieldError(at, "must be milliseconds or a duration such as \"500ms\", \"30s\", \"5m\" "
                    + "(at most 24h)"));
            return fallback;
        }
        return d;
    }

    private static void unknown(JsonNode obj, Set<String> known, String at, List<FieldError> problems) {
        obj.fieldNames().forEachRemaining(k -> {
            if (!known.contains(k)) {
                problems.add(new FieldError(at + "." + k, "is not a known field"));
            }
        });
    }
}
