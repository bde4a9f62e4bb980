package ai.arches.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base for API tests: one server and database per test class. Tests inside a class must not
 * depend on each other; each creates the users and organizations it needs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ServerTest {
    protected TestServer server;
    protected Api api;

    @BeforeAll
    void startServer() {
        server = TestServer.start(overrides());
        api = server.api();
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** Config overrides for this class's server. */
    protected java.util.Map<String, String> overrides() {
        return java.util.Map.of();
    }
}
