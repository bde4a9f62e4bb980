package ai.arches.graphql;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graphql.GraphQLContext;
import graphql.execution.CoercedVariables;
import graphql.language.ArrayValue;
import graphql.language.BooleanValue;
import graphql.language.EnumValue;
import graphql.language.FloatValue;
import graphql.language.IntValue;
import graphql.language.NullValue;
import graphql.language.ObjectField;
import graphql.language.ObjectValue;
import graphql.language.StringValue;
import graphql.language.Value;
import graphql.language.VariableReference;
import graphql.schema.Coercing;
import graphql.schema.CoercingParseLiteralException;
import graphql.schema.CoercingParseValueException;
import graphql.schema.CoercingSerializeException;
import graphql.schema.GraphQLScalarType;

/**
 * The schema's own scalars. {@code DateTime} is an RFC 3339 timestamp, written as REST writes it.
 * {@code JSON} is any JSON value (document metadata, workflow definitions, run input and
 * output); inputs become Jackson trees, which the features validate as they do REST bodies.
 */
final class Scalars {
    private Scalars() {}

    static final GraphQLScalarType DATE_TIME = GraphQLScalarType.newScalar()
            .name("DateTime")
            .description("An RFC 3339 timestamp in UTC, such as 2026-01-31T12:00:00.123456Z.")
            .coercing(new Coercing<Instant, String>() {
                @Override
                public String serialize(Object value, GraphQLContext ctx, Locale locale) {
                    if (value instanceof Instant i) {
                        return i.toString();
                    }
                    throw new CoercingSerializeException("not a timestamp: " + value.getClass().getSimpleName());
                }

                @Override
                public Instant parseValue(Object input, GraphQLContext ctx, Locale locale) {
                    if (input instanceof String s) {
                        try {
                            return OffsetDateTime.parse(s).toInstant();
                        } catch (DateTimeParseException e) {
                            // reported below
                        }
                    }
                    throw new CoercingParseValueException("DateTime must be an RFC 3339 timestamp such as "
                            + "2026-01-31T12:00:00Z");
                }

                @Override
                public Instant parseLiteral(Value<?> input, CoercedVariables variables, GraphQLContext ctx,
                                            Locale locale) {
                    if (input instanceof StringValue s) {
                        try {
                            return OffsetDateTime.parse(s.getValue()).toInstant();
                        } catch (DateTimeParseException e) {
                            // reported below
                        }
                    }
                    throw new CoercingParseLiteralException("DateTime must be an RFC 3339 timestamp such as "
                            + "\"2026-01-31T12:00:00Z\"");
                }
            })
            .build();

    static final GraphQLScalarType JSON = GraphQLScalarType.newScalar()
            .name("JSON")
            .description("Any JSON value: an object, array, string, number, boolean or null.")
            .coercing(new Coercing<JsonNode, Object>() {
                @Override
                public Object serialize(Object value, GraphQLContext ctx, Locale locale) {
                    // Trees, maps and lists are written by the same Jackson mapper as REST bodies.
                    return value;
                }

                @Override
                public JsonNode parseValue(Object input, GraphQLContext ctx, Locale locale) {
                    return Json.MAPPER.valueToTree(input);
                }

                @Override
                public JsonNode parseLiteral(Value<?> input, CoercedVariables variables, GraphQLContext ctx,
                                             Locale locale) {
                    return tree(input, variables);
                }
            })
            .build();

    /** A literal written in the document, with any variables inside it, as a tree. */
    private static JsonNode tree(Value<?> v, CoercedVariables variables) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (v) {
            case NullValue n -> f.nullNode();
            case StringValue s -> f.textNode(s.getValue());
            case BooleanValue b -> f.booleanNode(b.isValue());
            case IntValue i -> f.numberNode(new BigInteger(i.getValue().toString()));
            case FloatValue d -> f.numberNode(new BigDecimal(d.getValue().toString()));
            case EnumValue e -> f.textNode(e.getName());
            case ArrayValue a -> {
                ArrayNode out = f.arrayNode();
                a.getValues().forEach(item -> out.add(tree(item, variables)));
                yield out;
            }
            case ObjectValue o -> {
                ObjectNode out = f.objectNode();
                for (ObjectField field : o.getObjectFields()) {
                    out.set(field.getName(), tree(field.getValue(), variables));
                }
                yield out;
            }
            case VariableReference r -> Json.MAPPER.valueToTree(variables.get(r.getName()));
            default -> throw new CoercingParseLiteralException("not a JSON value: " + v.getClass().getSimpleName());
        };
    }
}
