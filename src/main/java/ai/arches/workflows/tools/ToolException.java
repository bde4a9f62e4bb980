package ai.arches.workflows.tools;

/** A step's failure in words its author can act on; the message is stored as the step's error. */
public final class ToolException extends RuntimeException {
    public ToolException(String message) {
        super(message);
    }

    public ToolException(String message, Throwable cause) {
        super(message, cause);
    }
}
