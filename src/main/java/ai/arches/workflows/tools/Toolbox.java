package ai.arches.workflows.tools;

import java.net.http.HttpClient;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import ai.arches.common.FieldError;
import ai.arches.config.ArchesConfig;
import ai.arches.content.Contents;
import ai.arches.content.Search;
import ai.arches.embedding.Passages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The built-in tools by name: what a workflow node's {@code "tool"} may say. Built once at
 * start-up and immutable after, so any number of runs may share it. It owns the one HttpClient
 * that the {@code http} and {@code summarize} tools share (its connection pool and threads);
 * close it after the executor has stopped.
 *
 * <p>The client follows no redirects (the http tool follows them itself, checking every hop),
 * uses no proxy (a proxy would resolve names the SSRF guard never saw) and keeps no cookies
 * (steps of different organizations share it).
 */
public final class Toolbox implements AutoCloseable {
    private final TreeMap<String, Tool> tools = new TreeMap<>();
    private final ExecutorService httpThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient client;

    public Toolbox(Contents contents, Search search, Passages passages, ArchesConfig.Workflows cfg, ObjectMapper json) {
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .connectTimeout(cfg.http().timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .executor(httpThreads)
                .build();
        for (Tool t : List.of(
                new DelayTool(),
                new FailTool(),
                new TransformTool(),
                new ExtractTool(contents, json),
                new ChunkTool(passages, json),
                new SearchTool(search, json),
                new SummarizeTool(client, cfg.summarize(), json),
                new CreateContentTool(contents, json),
                new HttpTool(client, new SsrfGuard(cfg.http().allow()), cfg.http(), json))) {
            tools.put(t.name(), t);
        }
    }

    public Optional<Tool> get(String name) {
        return Optional.ofNullable(name == null ? null : tools.get(name));
    }

    /** The tools' names, sorted. */
    public Set<String> names() {
        return Collections.unmodifiableSortedSet(tools.navigableKeySet());
    }

    /**
     * Problems with a tool node, for saving a workflow: an unknown tool under {@code at.tool},
     * else the tool's own findings under {@code at.config}. {@code at} is the node's path, such
     * as {@code definition.nodes[2]}; a missing config reads as an empty one.
     */
    public List<FieldError> check(String tool, ObjectNode config, String at) {
        if (tool == null) {
            return List.of(new FieldError(at + ".tool", "is required for a tool node (known: " + known() + ")"));
        }
        Tool t = tools.get(tool);
        if (t == null) {
            return List.of(new FieldError(at + ".tool", "unknown tool '" + tool + "' (known: " + known() + ")"));
        }
        return t.check(config == null ? JsonNodeFactory.instance.objectNode() : config, at + ".config");
    }

    private String known() {
        return String.join(", ", tools.keySet());
    }

    @Override
    public void close() {
        // Steps have stopped by now; whatever is still in flight belongs to nobody.
        client.shutdownNow();
        client.close();
        httpThreads.close(); // the client never shuts down an executor it was handed
    }
}
