package ai.arches.content;

import java.util.List;

import ai.arches.common.Listing;

/**
 * Ranked results, the mode that produced them, and the server's time in milliseconds;
 * {@code truncated} when lower-ranked hits were left out to keep the response within
 * server.max_page_bytes.
 */
public record SearchResults(List<SearchHit> data, String mode, long tookMs, boolean truncated) implements Listing {}
