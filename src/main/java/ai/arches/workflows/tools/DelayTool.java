package ai.arches.workflows.tools;

import java.util.List;

import ai.arches.common.FieldError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@code delay}: waits {@code ms} milliseconds, then passes its input on unchanged. */
final class DelayTool implements Tool {
    static final long MAX_MS = 3_600_000;

    @Override
    public String name() {
        return "delay";
    }

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        ms(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) throws InterruptedException {
        Args a = Args.run(call.config());
        long ms = ms(a);
        a.done();
        // Thread.sleep ends at once when the executor interrupts the step (cancel, timeout).
        Thread.sleep(ms);
        return call.input() == null ? NullNode.getInstance() : call.input();
    }

    private static long ms(Args a) {
        if (!a.has("ms")) {
            a.problem("ms", "is required");
            return 0;
        }
        return a.number("ms", 0, MAX_MS, 0);
    }
}
