package ai.arches.graphql;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import graphql.schema.idl.RuntimeWiring;
import org.dataloader.DataLoader;

/**
 * What a feature hands the GraphQL endpoint: its part of the schema in SDL (usually
 * {@code extend type Query}, {@code extend type Organization}), the resolvers of those fields,
 * and the data loaders they batch through. Loaders are made anew for every request, so what one
 * caches (per key, for the request) never reaches another caller.
 */
public record SchemaPiece(String sdl, Consumer<RuntimeWiring.Builder> wiring,
                          Map<String, Supplier<DataLoader<?, ?>>> loaders) {
    public SchemaPiece {
        loaders = Map.copyOf(loaders);
    }

    public SchemaPiece(String sdl, Consumer<RuntimeWiring.Builder> wiring) {
        this(sdl, wiring, Map.of());
    }
}
