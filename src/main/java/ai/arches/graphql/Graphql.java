package ai.arches.graphql;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;
import ai.arches.common.MethodNotAllowedException;
import ai.arches.config.ArchesConfig;
import ai.arches.http.Problems;

import graphql.ExecutionInput;
import graphql.ExecutionResult;
import graphql.GraphQL;
import graphql.GraphQLError;
import graphql.GraphqlErrorBuilder;
import graphql.analysis.FieldComplexityEnvironment;
import graphql.analysis.MaxQueryComplexityInstrumentation;
import graphql.execution.AbortExecutionException;
import graphql.execution.DataFetcherExceptionHandler;
import graphql.execution.DataFetcherExceptionHandlerParameters;
import graphql.execution.DataFetcherExceptionHandlerResult;
import graphql.execution.instrumentation.ChainedInstrumentation;
import graphql.execution.instrumentation.InstrumentationContext;
import graphql.execution.instrumentation.InstrumentationState;
import graphql.execution.instrumentation.SimplePerformantInstrumentation;
import graphql.execution.instrumentation.parameters.InstrumentationExecuteOperationParameters;
import graphql.execution.preparsed.persisted.ApolloPersistedQuerySupport;
import graphql.execution.preparsed.persisted.PersistedQuerySupport;
import graphql.language.OperationDefinition;
import graphql.parser.ParserOptions;
import graphql.schema.DataFetchingEnvironment;
import graphql.schema.GraphQLAppliedDirective;
import graphql.schema.GraphQLSchema;
import graphql.schema.idl.RuntimeWiring;
import graphql.schema.idl.SchemaGenerator;
import graphql.schema.idl.SchemaParser;
import graphql.schema.idl.TypeDefinitionRegistry;
import graphql.validation.QueryComplexityLimits;
import org.dataloader.DataLoaderRegistry;

/**
 * The GraphQL engine: one schema assembled at start-up from the features' {@link SchemaPiece}s,
 * executed per request for the caller the route's wrapper authenticated. Thread-safe: the schema,
 * the engine and the persisted-query cache are shared; data loaders and the context are per
 * request. Resolvers run on the request's thread (batch loads included), so what the request is
 * bound to (the caller whose writes reads must show) holds for all of them.
 *
 * <p>Before any resolver runs, a request is held to {@code graphql.*}: the parser stops at
 * {@code max_query_characters} or {@code max_query_tokens}, validation refuses more than
 * {@code max_depth} nested fields or {@code max_fields} fields, and the complexity check (each
 * field costs 1, or its {@code @cost}, plus its children's cost times its {@code limit} argument)
 * refuses more than {@code max_complexity}.
 *
 * <p>Errors carry the problem fields REST would answer with in {@code extensions} ({@code type},
 * {@code title}, {@code status}, {@code detail}, {@code errors}), from {@link Problems#describe}.
 */
public final class Graphql {
    /** Context key of the caller, as the route's wrapper resolved it. */
    static final String CALLER = "arches.caller";
    private static final String REQUEST_ID = "arches.requestId";
    /** Context key: true when the request came by GET, which may not run mutations. */
    private static final String READ_ONLY = "arches.readOnly";

    private static final String BASE_SDL = """
            schema {
              query: Query
              mutation: Mutation
            }

            "Reads. Every organization-scoped field checks the caller's membership and role as REST does."
            type Query

            "Writes; each needs the role its REST route needs (member or above for content, workflows and runs)."
            type Mutation

            scalar DateTime
            scalar JSON

            "What the field costs against graphql.max_complexity besides its children (default 1)."
            directive @cost(weight: Int!) on FIELD_DEFINITION
            """;

    /** A GraphQL request as sent: {@code query} is null when only a persisted query's hash is. */
    public record Request(String query, String operationName, Map<String, Object> variables,
                          Map<String, Object> extensions) {}

    /**
     * The response body per the GraphQL spec; {@code requestError}: the request failed as a whole
     * (it did not parse or validate, or went past a limit), so no {@code data} was produced.
     */
    public record Response(Map<String, Object> body, boolean requestError) {}

    private final GraphQL engine;
    private final List<SchemaPiece> pieces;
    private final ParserOptions parserOptions;
    private final QueryComplexityLimits validationLimits;

    public Graphql(List<SchemaPiece> pieces, ArchesConfig.Graphql cfg) {
        this.pieces = List.copyOf(pieces);
        TypeDefinitionRegistry types = new SchemaParser().parse(BASE_SDL);
        RuntimeWiring.Builder wiring = RuntimeWiring.newRuntimeWiring()
                .scalar(Scalars.DATE_TIME)
                .scalar(Scalars.JSON);
        for (SchemaPiece p : pieces) {
            types.merge(new SchemaParser().parse(p.sdl()));
            p.wiring().accept(wiring);
        }
        GraphQLSchema schema = new SchemaGenerator().makeExecutableSchema(types, wiring.build());
        this.parserOptions = ParserOptions.getDefaultOperationParserOptions().transform(b -> b
                .maxCharacters(cfg.maxQueryCharacters())
                .maxTokens(cfg.maxQueryTokens()));
        this.validationLimits = QueryComplexityLimits.newLimits()
                .maxDepth(cfg.maxDepth())
                .maxFieldsCount(cfg.maxFields())
                .build();
        this.engine = GraphQL.newGraphQL(schema)
                .instrumentation(new ChainedInstrumentation(List.of(new ReadOnlyGet(), new Complexity(cfg.maxComplexity()))))
                .preparsedDocumentProvider(new ApolloPersistedQuerySupport(new PersistedQueries(cfg.persistedQueries())))
                .defaultDataFetcherExceptionHandler(new Failures())
                .build();
    }

    /** The caller the request was authenticated as (by the route's wrapper). */
    public static <T> T caller(DataFetchingEnvironment env, Class<T> type) {
        return type.cast(env.getGraphQlContext().get(CALLER));
    }

    /**
     * Runs one request for {@code caller}. {@code readOnly}: it came by GET, and a mutation is
     * refused with 405 before anything runs. Failures that concern the whole HTTP request (405)
     * are thrown, for {@link Problems} to answer; everything else is in the response.
     */
    public Response execute(Object caller, Request request, boolean readOnly, String requestId) {
        DataLoaderRegistry loaders = new DataLoaderRegistry();
        for (SchemaPiece p : pieces) {
            p.loaders().forEach((name, loader) -> loaders.register(name, loader.get()));
        }
        ExecutionInput input = ExecutionInput.newExecutionInput()
                // A persisted query may arrive as its hash alone; the engine needs some text.
                .query(request.query() == null ? PersistedQuerySupport.PERSISTED_QUERY_MARKER : request.query())
                .operationName(request.operationName())
                .variables(request.variables())
                .extensions(request.extensions())
                .dataLoaderRegistry(loaders)
                .graphQLContext(b -> b.put(CALLER, caller).put(REQUEST_ID, requestId).put(READ_ONLY, readOnly)
                        .put(ParserOptions.class, parserOptions).put(QueryComplexityLimits.KEY, validationLimits))
                .build();
        ExecutionResult result;
        try {
            result = engine.execute(input);
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
        Map<String, Object> body = result.toSpecification();
        describeErrors(body, requestId);
        return new Response(body, !result.isDataPresent());
    }

    /**
     * Gives the errors graphql-java raised itself (syntax, validation, variables, limits,
     * persisted queries) problem fields as well; resolvers' errors have theirs already.
     */
    @SuppressWarnings("unchecked")
    private static void describeErrors(Map<String, Object> body, String requestId) {
        if (!(body.get("errors") instanceof List<?> errors)) {
            return;
        }
        List<Object> described = new ArrayList<>(errors.size());
        for (Object e : errors) {
            Map<String, Object> error = new LinkedHashMap<>((Map<String, Object>) e);
            Map<String, Object> ext = new LinkedHashMap<>(
                    error.get("extensions") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of());
            if (!ext.containsKey("type")) {
                String classification = String.valueOf(ext.get("classification"));
                String message = String.valueOf(error.get("message"));
                Problems.Problem p;
                switch (classification) {
                    case "PersistedQueryNotFound" -> {
                        // Apollo clients look for this code, then send the text with the hash.
                        ext.put("code", "PERSISTED_QUERY_NOT_FOUND");
                        p = new Problems.Problem(400, Problems.type("persisted-query-not-found"),
                                "Persisted query not found", "no query is stored under this sha256Hash on this "
                                + "node; send the query text with the hash", List.of());
                    }
                    case "PersistedQueryIdInvalid" -> p = Problems.describe(new InvalidInputException(
                            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query text",
                            List.of(new FieldError("extensions.persistedQuery.sha256Hash",
                                    "must be the hex SHA-256 of the query's UTF-8 text"))), requestId);
                    case "NullValueInNonNullableField", "DataFetchingException" ->
                            p = Problems.describe(new IllegalStateException(message), requestId);
                    default -> p = Problems.describe(new InvalidInputException(message), requestId);
                }
                problemFields(ext, p);
            }
            error.put("extensions", ext);
            described.add(error);
        }
        body.put("errors", described);
    }

    private static void problemFields(Map<String, Object> ext, Problems.Problem p) {
        ext.put("type", p.type());
        ext.put("title", p.title());
        ext.put("status", p.status());
        ext.put("detail", p.detail());
        if (!p.errors().isEmpty()) {
            ext.put("errors", p.errors());
        }
    }

    /** A resolver's failure as a GraphQL error with the problem REST would answer with. */
    private static final class Failures implements DataFetcherExceptionHandler {
        @Override
        public CompletableFuture<DataFetcherExceptionHandlerResult> handleException(
                DataFetcherExceptionHandlerParameters params) {
            Throwable e = params.getException();
            while (e instanceof CompletionException && e.getCause() != null) {
                e = e.getCause();
            }
            DataFetchingEnvironment env = params.getDataFetchingEnvironment();
            String requestId = env.getGraphQlContext().get(REQUEST_ID);
            Problems.Problem p = Problems.describe(e, requestId);
            Map<String, Object> ext = new LinkedHashMap<>();
            problemFields(ext, p);
            GraphQLError error = GraphqlErrorBuilder.newError(env)
                    .message(p.detail())
                    .extensions(ext)
                    .build();
            return CompletableFuture.completedFuture(DataFetcherExceptionHandlerResult.newResult(error).build());
        }
    }

    /** GET may only read: the GraphQL-over-HTTP spec answers a mutation sent by GET with 405. */
    private static final class ReadOnlyGet extends SimplePerformantInstrumentation {
        @Override
        public InstrumentationContext<ExecutionResult> beginExecuteOperation(
                InstrumentationExecuteOperationParameters params, InstrumentationState state) {
            var ctx = params.getExecutionContext();
            if (ctx.getOperationDefinition().getOperation() == OperationDefinition.Operation.MUTATION
                    && Boolean.TRUE.equals(ctx.getGraphQLContext().get(READ_ONLY))) {
                throw new MethodNotAllowedException("a mutation must be sent by POST", List.of("POST"));
            }
            return super.beginExecuteOperation(params, state);
        }
    }

    /**
     * graphql-java's complexity check with this schema's costs: a field costs 1 (or its
     * {@code @cost}) plus its children's cost, multiplied by its {@code limit} argument when it
     * has one, since that many children come back. Computed in long and capped, so a huge
     * {@code limit} is refused rather than overflowing into a small cost.
     */
    private static final class Complexity extends MaxQueryComplexityInstrumentation {
        private final int max;

        Complexity(int max) {
            super(max, Complexity::cost);
            this.max = max;
        }

        static int cost(FieldComplexityEnvironment env, int children) {
            GraphQLAppliedDirective cost = env.getFieldDefinition().getAppliedDirective("cost");
            long weight = cost == null ? 1 : ((Number) cost.getArgument("weight").getValue()).longValue();
            long items = env.getArguments().get("limit") instanceof Number n ? Math.max(1, n.longValue()) : 1;
            return (int) Math.min(Integer.MAX_VALUE, weight + Math.min(Integer.MAX_VALUE, items) * (long) children);
        }

        @Override
        protected AbortExecutionException mkAbortException(int total, int limit) {
            return new AbortExecutionException("the query's complexity is " + total + ", more than the " + max
                    + " allowed (graphql.max_complexity): ask for fewer items (smaller limit arguments) or fewer "
                    + "nested fields");
        }
    }
}
