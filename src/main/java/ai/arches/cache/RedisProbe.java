package ai.arches.cache;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;

/**
 * The node's Redis connection, as far as readiness needs it: connects lazily, answers whether
 * Redis replies to PING within the command timeout, and reconnects on the next check after a
 * failure. Lettuce multiplexes one connection across threads, so one is enough.
 */
public final class RedisProbe implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RedisProbe.class.getName());

    private final RedisClient client;
    private final Duration timeout;
    private volatile StatefulRedisConnection<String, String> connection;

    public RedisProbe(String url, Duration timeout) {
        RedisURI uri = RedisURI.create(url);
        uri.setTimeout(timeout);
        this.timeout = timeout;
        this.client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
    }

    public boolean ping() {
        try {
            return "PONG".equals(connection().sync().ping());
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "redis ping failed", e);
            return false;
        }
    }

    private synchronized StatefulRedisConnection<String, String> connection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null || !c.isOpen()) {
            c = client.connect();
            c.setTimeout(timeout);
            connection = c;
        }
        return c;
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
