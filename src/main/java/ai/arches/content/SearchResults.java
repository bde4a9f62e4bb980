package ai.arches.content;

import java.util.List;

import ai.arches.common.Listing;

/** Ranked results, the mode that produced them, and the server's time in milliseconds. */
public record SearchResults(List<SearchHit> data, String mode, long tookMs) implements Listing {}
