package ai.arches.graphql;

import java.util.Locale;

import graphql.schema.DataFetcher;
import graphql.schema.DataFetchingEnvironment;
import graphql.schema.PropertyDataFetcher;

/** Small resolvers the features' schema pieces share. */
public final class Fields {
    private Fields() {}

    /**
     * The {@code limit} argument as REST's {@code ?limit=} (the schema gives the default), so the
     * features check it against the same bounds.
     */
    public static String limit(DataFetchingEnvironment env) {
        Object n = env.getArgument("limit");
        return n == null ? null : n.toString();
    }

    /** A property holding a lower-case wire name ("queued") as the enum constant of that name. */
    public static <E extends Enum<E>> DataFetcher<E> enumOf(Class<E> type, String property) {
        PropertyDataFetcher<Object> read = PropertyDataFetcher.fetching(property);
        return env -> {
            Object v = read.get(env);
            return v == null ? null : type.isInstance(v) ? type.cast(v)
                    : Enum.valueOf(type, v.toString().toUpperCase(Locale.ROOT));
        };
    }

    /** A property holding a lower-case wire name, upper-cased for an enum the schema alone defines. */
    public static DataFetcher<String> upperCase(String property) {
        PropertyDataFetcher<Object> read = PropertyDataFetcher.fetching(property);
        return env -> {
            Object v = read.get(env);
            return v == null ? null : v.toString().toUpperCase(Locale.ROOT);
        };
    }
}
