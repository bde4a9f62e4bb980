package ai.arches.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

/**
 * The last connection selector: takes the connections no protocol claimed (Helidon's HTTP/1
 * selector rejects any first line not ending in " HTTP/1.1", and would close them without a
 * word) and answers one problem+json, 505 for a well-formed request line of another HTTP
 * version, else 400, then closes.
 */
public final class UnknownProtocol implements ServerConnectionSelector {
    private static final Pattern OTHER_VERSION = Pattern.compile("[A-Za-z]{1,20} \\S+ HTTP/\\d(\\.\\d)?\\r?");

    @Override
    public int bytesToIdentifyConnection() {
        return 0;
    }

    private final int maxRequestLine;

    /** {@code maxRequestLine} as configured for HTTP/1 (its selector gives up beyond it). */
    public UnknownProtocol(int maxRequestLine) {
        this.maxRequestLine = maxRequestLine;
    }

    /**
     * Helidon asks the selectors it was given before its protocols, so this one claims only what
     * HTTP/1 would refuse: a complete first line not ending in " HTTP/1.1", or no line at all
     * within the request-line limit. Until then it waits (UNKNOWN) and HTTP/1 wins.
     */
    @Override
    public Support supports(BufferData data) {
        int nl = data.indexOf((byte) '\n');
        if (nl < 0) {
            return data.available() > maxRequestLine ? Support.SUPPORTED : Support.UNKNOWN;
        }
        return data.readString(nl).endsWith(" HTTP/1.1\r") ? Support.UNSUPPORTED : Support.SUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return Set.of();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new ServerConnection() {
            @Override
            public void handle(Limit limit) {
                String line = firstLine(ctx);
                Status status = OTHER_VERSION.matcher(line).matches() ? Status.HTTP_VERSION_NOT_SUPPORTED_505
                        : line.length() >= maxRequestLine ? Status.REQUEST_URI_TOO_LONG_414 : Status.BAD_REQUEST_400;
                String requestId = UUID.randomUUID().toString();
                byte[] body = TransportProblems.body(status, "/", requestId);
                String head = "HTTP/1.1 " + status.code() + " " + status.reasonPhrase() + "\r\n"
                        + "Content-Type: " + JsonIo.PROBLEM_JSON + "\r\n"
                        + "Content-Length: " + body.length + "\r\n"
                        + TransportProblems.X_REQUEST_ID.defaultCase() + ": " + requestId + "\r\n"
                        + "Connection: close\r\n\r\n";
                ctx.dataWriter().writeNow(BufferData.create(BufferData.create(head.getBytes(StandardCharsets.US_ASCII)),
                        BufferData.create(body)));
            }

            @Override
            public Duration idleTime() {
                return Duration.ZERO;
            }

            @Override
            public void close(boolean interrupt) {
                // Nothing held: the connection handler closes the socket once handle returns.
            }
        };
    }

    /** What already arrived of the first line; never waits for more. */
    private String firstLine(ConnectionContext ctx) {
        try {
            int n = Math.min(ctx.dataReader().available(), maxRequestLine);
            String s = ctx.dataReader().readAsciiString(n);
            int nl = s.indexOf('\n');
            return nl < 0 ? s : s.substring(0, nl);
        } catch (RuntimeException e) {
            return "";
        }
    }
}
