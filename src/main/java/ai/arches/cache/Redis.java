package ai.arches.cache;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

/**
 * The node's link to the shared Redis: one multiplexed command connection, one pub/sub
 * connection for cache invalidation, and a circuit breaker in front of both.
 *
 * <p>Every command has the short configured timeout and never throws: a failure answers
 * "absent" or false and counts against the breaker, and while the breaker is open no command is
 * even tried, so a dead or slow Redis costs requests nothing but the trip to PostgreSQL. The
 * pub/sub side reports when it is (re)subscribed or cut off, because a node may only trust its
 * in-process cache while it hears other nodes' invalidations.
 */
public final class Redis implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Redis.class.getName());

    private final RedisClient client;
    private final RedisClient pubSubClient;
    private final CircuitBreaker breaker;
    private final String channel;
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile StatefulRedisPubSubConnection<String, String> pubSub;

    /**
     * @param onMessage   invalidation messages from the channel
     * @param onSubscribed runs with true when the subscription is live, false when it is lost
     * @param onRecovered  runs when the breaker closes again after an outage
     */
    public Redis(String url, Duration timeout, String channel, Clock clock, Consumer<String> onMessage,
                 Consumer<Boolean> onSubscribed, Runnable onRecovered) {
        this.channel = channel;
        this.breaker = new CircuitBreaker(3, Duration.ofSeconds(5), clock, onRecovered);
        RedisURI uri = RedisURI.create(url);
        uri.setTimeout(timeout);
        ClientOptions options = ClientOptions.builder()
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .build();
        this.client = RedisClient.create(uri);
        client.setOptions(options);
        this.pubSubClient = RedisClient.create(uri);
        pubSubClient.setOptions(options);
        pubSubClient.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(io.lettuce.core.RedisChannelHandler<?, ?> connection) {
                onSubscribed.accept(false);
            }
        });
        startSubscription(onMessage, onSubscribed);
    }

    private void startSubscription(Consumer<String> onMessage, Consumer<Boolean> onSubscribed) {
        Thread.ofVirtual().name("redis-subscriber").start(() -> {
            // Connect in the background and keep trying: a node must start while Redis is down.
            while (pubSub == null && !Thread.currentThread().isInterrupted()) {
                try {
                    StatefulRedisPubSubConnection<String, String> c = pubSubClient.connectPubSub();
                    c.addListener(new RedisPubSubAdapter<>() {
                        @Override
                        public void message(String ch, String message) {
                            onMessage.accept(message);
                        }

                        @Override
                        public void subscribed(String ch, long count) {
                            onSubscribed.accept(true);
                        }
                    });
                    c.async().subscribe(channel);
                    pubSub = c;
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "redis pub/sub connect failed; retrying", e);
                    try {
                        TimeUnit.SECONDS.sleep(1);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
    }

    public Optional<String> get(String key) {
        return fetch(key).flatMap(o -> o);
    }

    /** Outer empty: Redis could not be asked; inner empty: the key is absent. */
    public Optional<Optional<String>> fetch(String key) {
        return call(c -> Optional.ofNullable(c.get(key)));
    }

    public boolean set(String key, String value, long ttlMillis) {
        return call(c -> c.set(key, value, SetArgs.Builder.px(ttlMillis))).isPresent();
    }

    /** SET NX with expiry: true when this caller now holds the key. */
    public boolean setIfAbsent(String key, String value, long ttlMillis) {
        return call(c -> "OK".equals(c.set(key, value, SetArgs.Builder.nx().px(ttlMillis)))).orElse(false);
    }

    public boolean delete(String... keys) {
        return call(c -> c.del(keys)).isPresent();
    }

    public OptionalLong incr(String key) {
        return call(c -> c.incr(key)).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    /** Runs a Lua script returning an integer; empty when Redis could not be asked. */
    public OptionalLong eval(String script, String[] keys, String... args) {
        return call(c -> (Long) c.eval(script, ScriptOutputType.INTEGER, keys, args))
                .map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    /**
     * Runs a Lua script returning a list of integers, by its SHA1 once Redis holds it (the text is
     * sent only when Redis answers NOSCRIPT); empty when Redis could not be asked.
     */
    public Optional<List<Long>> evalLongs(String script, String[] keys, String... args) {
        return call(c -> {
            try {
                return c.<List<Long>>evalsha(c.digest(script), ScriptOutputType.MULTI, keys, args);
            } catch (RedisNoScriptException e) {
                return c.<List<Long>>eval(script, ScriptOutputType.MULTI, keys, args);
            }
        });
    }

    public boolean publish(String message) {
        return call(c -> c.publish(channel, message)).isPresent();
    }

    /** True when Redis answers PING now (tried even while the breaker is open: it is the probe). */
    public boolean ping() {
        try {
            boolean ok = "PONG".equals(connection().sync().ping());
            if (ok) {
                breaker.success();
            }
            return ok;
        } catch (RuntimeException e) {
            breaker.failure();
            return false;
        }
    }

    public boolean available() {
        return breaker.state() == CircuitBreaker.State.CLOSED;
    }

    /** For Bucket4j's proxy manager, which opens its own byte-array connection. */
    public RedisClient client() {
        return client;
    }

    private <T> Optional<T> call(java.util.function.Function<RedisCommands<String, String>, T> command) {
        if (!breaker.allow()) {
            return Optional.empty();
        }
        try {
            // Every command here answers non-null on success (absence is wrapped by the caller).
            T result = command.apply(connection().sync());
            breaker.success();
            return Optional.ofNullable(result);
        } catch (RuntimeException e) {
            breaker.failure();
            LOG.log(Level.FINE, "redis command failed", e);
            return Optional.empty();
        }
    }

    private StatefulRedisConnection<String, String> connection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            synchronized (this) {
                c = connection;
                if (c == null) {
                    c = client.connect();
                    connection = c;
                }
            }
        }
        return c;
    }

    @Override
    public void close() {
        var c = connection;
        if (c != null) {
            c.close();
        }
        var p = pubSub;
        if (p != null) {
            p.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        pubSubClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
