package ai.arches.http;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;

/**
 * Registers routes on Helidon's routing while keeping the list of (method, template) pairs, so
 * the OpenAPI document can be checked against what the server really serves and a request to a
 * known path with the wrong method gets 405 with Allow instead of 404.
 */
public final class ApiRouter {
    public record Route(String method, String template) {}

    private record Known(Route route, Pattern pattern) {}

    private final HttpRouting.Builder routing;
    private final List<Known> routes = new ArrayList<>();

    public ApiRouter(HttpRouting.Builder routing) {
        this.routing = routing;
    }

    public ApiRouter get(String template, Handler handler) {
        return add(Method.GET, template, handler);
    }

    public ApiRouter post(String template, Handler handler) {
        return add(Method.POST, template, handler);
    }

    public ApiRouter patch(String template, Handler handler) {
        return add(Method.PATCH, template, handler);
    }

    public ApiRouter put(String template, Handler handler) {
        return add(Method.PUT, template, handler);
    }

    public ApiRouter delete(String template, Handler handler) {
        return add(Method.DELETE, template, handler);
    }

    public List<Route> routes() {
        return Collections.unmodifiableList(routes.stream().map(Known::route).toList());
    }

    /** Methods served at a concrete path; empty when no template matches it. */
    public Set<String> methodsFor(String path) {
        Set<String> out = new TreeSet<>();
        for (Known k : routes) {
            if (k.pattern().matcher(path).matches()) {
                out.add(k.route().method());
            }
        }
        return out;
    }

    private ApiRouter add(Method method, String template, Handler handler) {
        routes.add(new Known(new Route(method.text(), template), pattern(template)));
        routing.route(method, template, handler);
        return this;
    }

    /** A regular expression matching the concrete paths of a template such as /a/{id}/b. */
    public static Pattern pattern(String template) {
        StringBuilder re = new StringBuilder();
        for (String part : template.split("(?=\\{)|(?<=\\})")) {
            if (part.startsWith("{") && part.endsWith("}")) {
                re.append("[^/]+");
            } else {
                re.append(Pattern.quote(part));
            }
        }
        return Pattern.compile(re.toString());
    }
}
