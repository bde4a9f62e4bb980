package ai.arches.web;

import ai.arches.testing.Prerequisites;

/**
 * Whether npm built the web assets into the test classpath (web/manifest.json). Maven alone does
 * not build them, so their tests are skipped then, unless ARCHES_TEST_REQUIRE_WEB=1 (set by
 * {@code make test}, which builds them first) makes their absence a failure.
 */
public final class WebAssets {
    public static final String NOT_BUILT = "web assets not built: `make build` or `make test` builds them (npm in web/)";

    private WebAssets() {}

    public static boolean built() {
        boolean built = WebAssets.class.getClassLoader().getResource("web/manifest.json") != null;
        if (!built && Prerequisites.required("WEB")) {
            throw new AssertionError(NOT_BUILT + " (ARCHES_TEST_REQUIRE_WEB=1)");
        }
        return built;
    }
}
