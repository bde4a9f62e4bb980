package ai.arches.workflows;

import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.BeforeAll;

/** Base of the run tests: a server of their own and the fixtures that build workflows and follow runs. */
abstract class RunTest extends ServerTest {
    protected RunFixtures f;

    @BeforeAll
    void fixtures() {
        f = new RunFixtures(api);
    }
}
