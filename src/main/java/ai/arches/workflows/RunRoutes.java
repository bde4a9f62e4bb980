package ai.arches.workflows;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.InvalidInputException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Input;
import ai.arches.http.JsonIo;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Runs: start one of a workflow, list, read, cancel, and follow one as Server-Sent Events
 * ({@code step} and {@code run} events, ids numbered per run; {@code Last-Event-ID} resumes after
 * the event it names; the stream ends after the run's final event).
 */
public final class RunRoutes {
    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final Set<String> FINAL = Set.of("\"succeeded\"", "\"failed\"", "\"cancelled\"");
    /** A comment line this often keeps proxies from closing a quiet stream and finds gone clients. */
    private static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    /**
     * How often a stream looks for events besides being woken: a run executed on this node wakes
     * its streams at once, one executed on another node is seen within this (the executor sends
     * no NOTIFY per event; see RunStore.CHANNEL).
     */
    private static final long POLL_MILLIS = 250;
    private static final int EVENT_BATCH = 500;

    private final Runs runs;
    private final OrgGuard orgGuard;
    private final JsonIo io;

    public RunRoutes(Runs runs, OrgGuard orgGuard, JsonIo io) {
        this.runs = runs;
        this.orgGuard = orgGuard;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        String org = base + "/organizations/{org}";
        r.post(org + "/workflows/{id}/runs", orgGuard.at(Role.MEMBER, this::start));
        r.get(org + "/runs", orgGuard.at(Role.VIEWER, this::list));
        r.get(org + "/runs/{runId}", orgGuard.at(Role.VIEWER, this::get));
        r.post(org + "/runs/{runId}/cancel", orgGuard.at(Role.MEMBER, this::cancel));
        r.get(org + "/runs/{runId}/events", orgGuard.at(Role.VIEWER, this::events));
    }

    private void start(Access access, ServerRequest req, ServerResponse res) {
        UUID workflowId = Ids.parse(req.path().pathParameters().get("id")).orElseThrow(Workflows::notFound);
        // No body at all starts the run with an empty input; a body must be a valid request.
        Optional<com.fasterxml.jackson.databind.node.ObjectNode> input = Optional.empty();
        if (req.content().hasEntity()) {
            input = input(io.readInput(req));
        }
        Run run = runs.start(access, workflowId, input.orElse(null));
        res.header(HeaderNames.LOCATION, "/api/v1/organizations/" + run.organizationId() + "/runs/" + run.id());
        io.send(req, res, Status.ACCEPTED_202, run, Run.FIELDS);
    }

    /** A start request's {@code input}, a JSON object when present; GraphQL's startRun reads the same. */
    static Optional<com.fasterxml.jackson.databind.node.ObjectNode> input(Input in) {
        var input = in.optionalObject("input");
        in.validate();
        return input;
    }

    private void list(Access access, ServerRequest req, ServerResponse res) {
        Optional<UUID> workflowId = req.query().first("workflowId").asOptional().map(v -> Ids.parse(v.strip())
                .orElseThrow(() -> invalid("workflowId", "must be a UUID")));
        Optional<RunStatus> status = req.query().first("status").asOptional().map(RunRoutes::status);
        io.send(req, res, Status.OK_200, runs.list(access, workflowId, status,
                req.query().first("limit").orElse(null), req.query().first("cursor").orElse(null)), Run.FIELDS);
    }

    private void get(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, runs.get(access, runId(req)), Run.FIELDS);
    }

    private void cancel(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.ACCEPTED_202, runs.cancel(access, runId(req)), Run.FIELDS);
    }

    private void events(Access access, ServerRequest req, ServerResponse res) {
        UUID id = runId(req);
        long after = lastEventId(req);
        runs.check(access, id);
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        // nginx and similar proxies buffer responses unless told otherwise; a stream must not wait.
        res.header(HeaderNames.create("X-Accel-Buffering"), "no");
        try (OutputStream out = res.outputStream()) {
            out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            long lastWrite = System.nanoTime();
            while (true) {
                var signal = runs.watch(id);
                List<RunStore.StoredEvent> events = runs.events(id, after, EVENT_BATCH);
                boolean last = false;
                StringBuilder sb = new StringBuilder();
                for (var e : events) {
                    sb.append("id: ").append(e.seq()).append("\nevent: ").append(e.type()).append("\ndata: ")
                            .append(e.data()).append("\n\n");
                    after = e.seq();
                    last = e.type().equals("run") && isFinal(e.data());
                }
                if (!sb.isEmpty()) {
                    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    lastWrite = System.nanoTime();
                }
                if (last) {
                    return;
                }
                if (events.size() == EVENT_BATCH) {
                    continue;
                }
                if (events.isEmpty()) {
                    Optional<Long> end = runs.finalEvent(id);
                    if (end.isPresent() && end.get() <= after) {
                        return; // resumed after the final event: nothing more will come
                    }
                }
                try {
                    signal.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (System.nanoTime() - lastWrite > KEEP_ALIVE_NANOS) {
                        out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        lastWrite = System.nanoTime();
                    }
                } catch (ExecutionException e) {
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } catch (IOException e) {
            // The client went away; nothing to answer.
        } catch (UncheckedIOException e) {
            // Same, from a layer that wraps it.
        }
    }

    private static boolean isFinal(String data) {
        int i = data.indexOf("\"status\":");
        if (i < 0) {
            i = data.indexOf("\"status\": ");
        }
        if (i < 0) {
            return false;
        }
        String rest = data.substring(data.indexOf(':', i) + 1).stripLeading();
        return FINAL.stream().anyMatch(rest::startsWith);
    }

    private static long lastEventId(ServerRequest req) {
        Optional<String> raw = req.headers().first(LAST_EVENT_ID).or(() -> req.query().first("lastEventId").asOptional());
        if (raw.isEmpty() || raw.get().isBlank()) {
            return 0;
        }
        try {
            long v = Long.parseLong(raw.get().strip());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid("Last-Event-ID", "must be the id of an event of this stream (a whole number)");
        }
    }

    private static RunStatus status(String raw) {
        for (RunStatus s : RunStatus.values()) {
            if (s.wire().equals(raw.strip())) {
                return s;
            }
        }
        throw invalid("status", "must be one of queued, running, succeeded, failed, cancelled");
    }

    private static InvalidInputException invalid(String field, String message) {
        return new InvalidInputException(field + " " + message, List.of(new FieldError(field, message)));
    }

    private static UUID runId(ServerRequest req) {
        return Ids.parse(req.path().pathParameters().get("runId")).orElseThrow(Runs::notFound);
    }
}
