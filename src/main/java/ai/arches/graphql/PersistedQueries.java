package ai.arches.graphql;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import graphql.ExecutionInput;
import graphql.execution.preparsed.PreparsedDocumentEntry;
import graphql.execution.preparsed.persisted.PersistedQueryCache;
import graphql.execution.preparsed.persisted.PersistedQueryCacheMiss;
import graphql.execution.preparsed.persisted.PersistedQueryIdInvalid;
import graphql.execution.preparsed.persisted.PersistedQueryNotFound;
import graphql.execution.preparsed.persisted.PersistedQuerySupport;

/**
 * The documents of Automatic Persisted Queries, parsed and validated, by the SHA-256 of their
 * text; bounded, least recently used first out. A document is the same for every caller (it is
 * text checked against the schema; who runs it matters only when it runs), so one cache serves
 * all tenants. Only documents that passed validation are kept: a hash cannot pin an error.
 *
 * <p>Whenever a request carries the text too, the hash is checked against it, also when the hash
 * is already known, so a text never runs under another text's hash. Each node keeps its own
 * documents: behind a balancer a client may be told PersistedQueryNotFound once per node, and
 * then sends the text, as the protocol expects.
 */
final class PersistedQueries implements PersistedQueryCache {
    private final Cache<String, PreparsedDocumentEntry> documents;

    PersistedQueries(int maxDocuments) {
        this.documents = Caffeine.newBuilder().maximumSize(maxDocuments).build();
    }

    @Override
    public CompletableFuture<PreparsedDocumentEntry> getPersistedQueryDocumentAsync(
            Object id, ExecutionInput input, PersistedQueryCacheMiss onMiss) throws PersistedQueryNotFound {
        String hash = id.toString().toLowerCase(java.util.Locale.ROOT);
        String text = input.getQuery();
        boolean hasText = text != null && !text.isEmpty() && !text.equals(PersistedQuerySupport.PERSISTED_QUERY_MARKER);
        if (hasText && !sha256(text).equals(hash)) {
            throw new PersistedQueryIdInvalid(id);
        }
        PreparsedDocumentEntry known = documents.getIfPresent(hash);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        if (!hasText) {
            throw new PersistedQueryNotFound(id);
        }
        PreparsedDocumentEntry entry = onMiss.apply(text);
        if (!entry.hasErrors()) {
            documents.put(hash, entry);
        }
        return CompletableFuture.completedFuture(entry);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
