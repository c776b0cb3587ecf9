package dev.coterie.keystore;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A JSON configuration file that holds key material (context files, member bundles, key files,
 * Group Manager state), read so that no error message ever repeats the file's content.
 *
 * <p>Jackson's own exception messages quote the source text around the error, which may be a
 * hex Master Secret; here a syntax error says only the file, the line and column, and the field
 * it follows. Duplicate field names are refused instead of last-wins. Field accessors check the
 * JSON type ("master_secret" as a number is refused, not read as its digits) and say
 * {@code FILE: field 'NAME' ...why...}; hex values are never echoed.
 */
public final class JsonFile {
    private static final JsonFactory FACTORY = JsonFactory.builder().enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build();
    private static final long MAX_SIZE = 4 << 20;

    private final Path file;
    private final String prefix;
    private final ObjectNode node;

    private JsonFile(Path file, String prefix, ObjectNode node) {
        this.file = file;
        this.prefix = prefix;
        this.node = node;
    }

    /**
     * Reads {@code file}, which must hold one JSON object.
     *
     * @param kind what the file is, for messages ("group member bundle")
     */
    public static JsonFile read(Path file, String kind) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException(file + ": no such file or not readable");
        }
        if (Files.size(file) > MAX_SIZE) {
            throw new IOException(file + ": not a " + kind + ": larger than " + (MAX_SIZE >> 20) + " MiB");
        }
        return parse(file, Files.readAllBytes(file), kind);
    }

    /** Field access on an object already in memory (state a program keeps), as if read from {@code file}. */
    public static JsonFile of(Path file, ObjectNode node) {
        return new JsonFile(file, "", node);
    }

    /** Parses {@code content} as if read from {@code file}. */
    public static JsonFile parse(Path file, byte[] content, String kind) throws IOException {
        JsonParser p = FACTORY.createParser(content);
        try {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                throw new IOException(file + ": not a " + kind + ": it must hold one JSON object");
            }
            ObjectNode root = (ObjectNode) value(p, t, file);
            if (p.nextToken() != null) {
                throw new IOException(file + ": not a " + kind + ": content after the JSON object (line "
                        + p.currentTokenLocation().getLineNr() + ")");
            }
            return new JsonFile(file, "", root);
        } catch (JsonProcessingException e) {
            // never e.getMessage(): Jackson quotes the source text around the error
            String why = e instanceof JsonEOFException ? "the file ends inside a value" : "JSON syntax error";
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            String field = path(p.getParsingContext());
            throw new IOException(file + ": not a " + kind + ": " + why + where
                    + (field.isEmpty() ? "" : " (in or after field '" + field + "')"));
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            // the decoder's messages may quote bytes too
            throw new IOException(file + ": not a " + kind + ": not UTF-8 JSON");
        } finally {
            p.close();
        }
    }

    /**
     * The field the parser is in or has just read (Jackson reads a field's value together with
     * its name, so this is the field whose value is broken, or the one before a broken separator).
     */
    private static String path(JsonStreamContext c) {
        List<String> names = new ArrayList<>();
        for (; c != null; c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                names.add(0, displayName(c.getCurrentName()));
            }
        }
        return String.join(".", names);
    }

    private static JsonNode value(JsonParser p, JsonToken t, Path file) throws IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = f.objectNode();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    if (o.has(name)) {
                        throw new IOException(file + ": field '" + path(p.getParsingContext()) + "' appears twice");
                    }
                    o.set(name, value(p, p.nextToken(), file));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = f.arrayNode();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    a.add(value(p, e, file));
                }
                return a;
            }
            case VALUE_STRING:
                return f.textNode(p.getText());
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                try {
                    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                        return f.numberNode(p.getDecimalValue());
                    }
                    return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? f.numberNode(p.getBigIntegerValue())
                            : f.numberNode(p.getLongValue());
                } catch (NumberFormatException | ArithmeticException e) {
                    // 1e99999999999, say: never e.getMessage(), which quotes the digits (a Master Secret written as a number)
                    throw new IOException(file + ": field '" + path(p.getParsingContext()) + "' holds a number out of range");
                }
            case VALUE_TRUE:
                return f.booleanNode(true);
            case VALUE_FALSE:
                return f.booleanNode(false);
            case VALUE_NULL:
                return f.nullNode();
            default:
                throw new IOException(file + ": unexpected JSON token");
        }
    }

    /**
     * A field name as it may appear in a message: our own field names and short identifiers are
     * shown; a name that could be key material (long, or 8 or more hex digits) is not.
     */
    public static String displayName(String name) {
        if (name.matches("[A-Za-z_][A-Za-z0-9_-]{0,39}") && !name.matches("(?i)[0-9a-f]{8,}")) {
            return name;
        }
        if (name.matches("(?i)[0-9a-f]{0,16}")) {
            return name; // a Sender ID (at most 7 bytes): a public identifier
        }
        return "(name not shown)";
    }

    public Path file() {
        return file;
    }

    /** The parsed object itself, for code that keeps and rewrites it (Group Manager state). */
    public ObjectNode node() {
        return node;
    }

    /** An error about {@code field}: "FILE: field 'NAME' WHY". */
    public IOException error(String field, String why) {
        return new IOException(file + ": field '" + prefix + displayName(field) + "' " + why);
    }

    /** An error about the file or this object as a whole: "FILE: WHY". */
    public IOException error(String why) {
        return new IOException(file + ": " + (prefix.isEmpty() ? "" : "field '" + prefix.substring(0, prefix.length() - 1) + "' ") + why);
    }

    /** Refuses any field not in {@code known}. */
    public void allowOnly(Set<String> known) throws IOException {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                throw error("unknown field '" + prefix + displayName(f) + "' (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    /** Present and not null. */
    public boolean has(String field) {
        return node.hasNonNull(field);
    }

    public List<String> fieldNames() {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A required text field. */
    public String text(String field) throws IOException {
        if (!has(field)) {
            throw error(field, "is missing");
        }
        return text(field, null);
    }

    /** An optional text field; absent or null gives {@code dflt}. */
    public String text(String field, String dflt) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw error(field, "must be a string, not " + kind(v));
        }
        return v.asText();
    }

    /** An optional field that may be a string or an integer (algorithm names or COSE numbers). */
    public String nameOrNumber(String field, String dflt) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            return v.asText();
        }
        if (!v.isTextual()) {
            throw error(field, "must be a name or a COSE number, not " + kind(v));
        }
        return v.asText();
    }

    /** A required hex byte string. */
    public byte[] hex(String field) throws IOException {
        return decode(field, text(field));
    }

    /** An optional hex byte string: absent or null gives null. */
    public byte[] hexOrNull(String field) throws IOException {
        String s = text(field, null);
        return s == null ? null : decode(field, s);
    }

    /** A required hex secret; the message never tells the value or where the bad digit is. */
    public SecretBytes secret(String field) throws IOException {
        String s = text(field);
        try {
            return SecretBytes.fromHex(s);
        } catch (IllegalArgumentException e) {
            throw error(field, "is not valid hex" + (s.replaceAll("\\s+", "").length() % 2 != 0 ? " (an odd number of digits)" : "")
                    + "; value not shown");
        }
    }

    private byte[] decode(String field, String s) throws IOException {
        try {
            return Hex.decode(s);
        } catch (IllegalArgumentException e) {
            throw error(field, "is " + e.getMessage());
        }
    }

    /** An optional integer in [min, max]; absent or null gives {@code dflt}. */
    /** A boolean field, or {@code dflt} when it is absent or null. */
    public boolean bool(String field, boolean dflt) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw error(field, "must be true or false, not " + kind(v));
        }
        return v.asBoolean();
    }

    public long integer(String field, long dflt, long min, long max) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber()) {
            throw error(field, "must be an integer, not " + kind(v));
        }
        long n = v.asLong();
        if (!v.canConvertToLong() || n < min || n > max) {
            throw error(field, "must be between " + min + " and " + max);
        }
        return n;
    }

    /** A required integer in [min, max]. */
    public long integer(String field, long min, long max) throws IOException {
        if (!has(field)) {
            throw error(field, "is missing");
        }
        return integer(field, 0, min, max);
    }

    /** An optional nested object; absent or null gives an empty one. */
    public JsonFile object(String field) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return new JsonFile(file, prefix + displayName(field) + ".", JsonNodeFactory.instance.objectNode());
        }
        if (!v.isObject()) {
            throw error(field, "must be an object, not " + kind(v));
        }
        return new JsonFile(file, prefix + displayName(field) + ".", (ObjectNode) v);
    }

    static String kind(JsonNode v) {
        switch (v.getNodeType()) {
            case NUMBER: return "a number";
            case STRING: return "a string";
            case OBJECT: return "an object";
            case ARRAY: return "an array";
            case BOOLEAN: return "true or false";
            case NULL: return "null";
            default: return v.getNodeType().name().toLowerCase();
        }
    }
}
