package ai.arches.common;

import java.util.List;

/**
 * The path is served, but not for this request's method, or not for what the request asks of
 * it (a GraphQL mutation sent by GET): 405, with the methods that would be accepted in Allow.
 */
public final class MethodNotAllowedException extends ArchesException {
    private final List<String> allowed;

    public MethodNotAllowedException(String detail, List<String> allowed) {
        super(detail, List.of(), null);
        this.allowed = List.copyOf(allowed);
    }

    public List<String> allowed() {
        return allowed;
    }

    @Override
    public int status() {
        return 405;
    }

    @Override
    public String title() {
        return "Method not allowed";
    }

    @Override
    public String type() {
        return "method-not-allowed";
    }
}
