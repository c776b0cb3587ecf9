package dev.coterie.app;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionNumberRegistry.OptionFormat;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.coap.option.OptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;

/**
 * The request options and payload {@code coterie client} adds to a request: Accept,
 * Content-Format, If-Match, If-None-Match, generic {@code --option NAME|NUMBER=TYPE:VALUE}, and a
 * text, hex or file payload. Everything is parsed before anything is loaded or sent, and every
 * mistake is an {@link IllegalArgumentException} that names the option (exit status 64).
 */
final class RequestShaper {
    /** Options the client sets itself; a user value would be overwritten or contradict the command line. */
    private static final Set<Integer> RESERVED_PROTECTED = Set.of(OptionNumberRegistry.OSCORE);

    private final List<Option> options = new ArrayList<>();
    private byte[] payload;

    private RequestShaper() {
    }

    /**
     * Parses every shaping option of the command line.
     *
     * @param protectedRequest false only for {@code --no-oscore}, which may carry a hand-made OSCORE option
     */
    static RequestShaper parse(ExtensionOptionRegistry extensions, boolean protectedRequest, String accept,
                               String contentFormat, List<String> ifMatch, boolean ifNoneMatch, List<String> generic,
                               String payloadText, String payloadHex, Path payloadFile) {
        RequestShaper s = new RequestShaper();
        OptionRegistry registry = extensions.californiumRegistry();
        if (accept != null) {
            s.options.add(registry.getDefinitionByNumber(OptionNumberRegistry.ACCEPT).create(mediaType("--accept", accept)));
        }
        if (contentFormat != null) {
            s.options.add(registry.getDefinitionByNumber(OptionNumberRegistry.CONTENT_FORMAT)
                    .create(mediaType("--content-format", contentFormat)));
        }
        for (String etag : ifMatch) {
            byte[] v = hex("--if-match", etag);
            if (v.length > 8) {
                throw new IllegalArgumentException("--if-match: an ETag is 0 to 8 bytes, got " + v.length);
            }
            s.options.add(new Option(registry.getDefinitionByNumber(OptionNumberRegistry.IF_MATCH), v));
        }
        if (ifNoneMatch) {
            s.options.add(new Option(registry.getDefinitionByNumber(OptionNumberRegistry.IF_NONE_MATCH), new byte[0]));
        }
        for (String g : generic) {
            s.options.add(parseOption(registry, g, protectedRequest));
        }
        Set<Integer> seen = new HashSet<>();
        for (Option o : s.options) {
            if (!seen.add(o.getNumber()) && o.getDefinition().isSingleValue()) {
                throw new IllegalArgumentException("option " + o.getDefinition().getName() + " (" + o.getNumber()
                        + ") is not repeatable but was given twice");
            }
        }
        int payloads = (payloadText != null ? 1 : 0) + (payloadHex != null ? 1 : 0) + (payloadFile != null ? 1 : 0);
        if (payloads > 1) {
            throw new IllegalArgumentException("give at most one of --payload, --payload-hex and --payload-file");
        }
        if (payloadText != null) {
            s.payload = payloadText.getBytes(StandardCharsets.UTF_8);
        } else if (payloadHex != null) {
            s.payload = hex("--payload-hex", payloadHex);
        } else if (payloadFile != null) {
            try {
                s.payload = Files.readAllBytes(payloadFile);
            } catch (IOException e) {
                throw new IllegalArgumentException("--payload-file: cannot read " + payloadFile + " ("
                        + e.getClass().getSimpleName() + ")");
            }
        }
        return s;
    }

    /**
     * One {@code --option}: {@code NAME=TYPE:VALUE} or {@code NUMBER=TYPE:VALUE}, TYPE one of
     * {@code hex} (raw bytes, may be empty), {@code uint} (a CoAP uint, minimal bytes; 0 is empty)
     * or {@code text} (UTF-8), or {@code NAME=empty} for a zero-length value. NAME is an option name
     * from Californium's registry or the extension registry, in any case.
     */
    static Option parseOption(OptionRegistry registry, String spec, boolean protectedRequest) {
        int eq = spec.indexOf('=');
        if (eq < 1) {
            throw new IllegalArgumentException("--option " + spec + ": expected NAME=TYPE:VALUE or NUMBER=TYPE:VALUE "
                    + "(TYPE hex, uint or text; or NAME=empty)");
        }
        String key = spec.substring(0, eq).trim();
        String value = spec.substring(eq + 1);
        OptionDefinition def = definition(registry, key);
        String name = def.getNumber() == OptionNumberRegistry.OSCORE ? "OSCORE" : def.getName();
        if (protectedRequest && RESERVED_PROTECTED.contains(def.getNumber())) {
            throw new IllegalArgumentException("--option " + name + ": the OSCORE layer sets this option itself "
                    + "(a hand-made one only with --no-oscore)");
        }
        if (def.getNumber() == OptionNumberRegistry.OBSERVE) {
            throw new IllegalArgumentException("--option " + name + ": use --observe, which also handles the notifications");
        }
        byte[] bytes;
        String type;
        if (value.equals("empty")) {
            type = "empty";
            bytes = new byte[0];
        } else {
            int colon = value.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--option " + name + ": value must be hex:HEX, uint:N, text:TEXT or empty, got '"
                        + value + "'");
            }
            type = value.substring(0, colon);
            String v = value.substring(colon + 1);
            switch (type) {
                case "hex":
                    bytes = hex("--option " + name, v);
                    break;
                case "uint":
                    bytes = uint(name, v);
                    break;
                case "text":
                    bytes = v.getBytes(StandardCharsets.UTF_8);
                    break;
                default:
                    throw new IllegalArgumentException("--option " + name + ": unknown value type '" + type
                            + "' (hex, uint or text)");
            }
        }
        OptionFormat f = def.getFormat();
        if (type.equals("uint") && f != OptionFormat.INTEGER && f != OptionFormat.OPAQUE) {
            throw new IllegalArgumentException("--option " + name + ": is " + article(f) + " option, not a uint (use "
                    + (f == OptionFormat.STRING ? "text:" : "empty") + " or hex:)");
        }
        if (type.equals("text") && f != OptionFormat.STRING && f != OptionFormat.OPAQUE) {
            throw new IllegalArgumentException("--option " + name + ": is " + article(f) + " option, not text (use "
                    + (f == OptionFormat.INTEGER ? "uint:" : "empty") + " or hex:)");
        }
        try {
            return new Option(def, bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--option " + name + ": " + e.getMessage());
        }
    }

    private static String article(OptionFormat f) {
        String n = f == OptionFormat.INTEGER ? "uint" : f.name().toLowerCase(Locale.ROOT);
        return (n.equals("opaque") || n.equals("empty") ? "an " : "a ") + n;
    }

    /** A registered option by name (any case) or number; an unregistered number becomes an opaque, repeatable option. */
    private static OptionDefinition definition(OptionRegistry registry, String key) {
        if (!key.isEmpty() && key.chars().allMatch(Character::isDigit)) {
            int number;
            try {
                number = Integer.parseInt(key);
            } catch (NumberFormatException e) {
                number = -1;
            }
            if (number < 1 || number > 65535) {
                throw new IllegalArgumentException("--option " + key + ": an option number is 1 to 65535");
            }
            OptionDefinition d = registry.getDefinitionByNumber(number);
            return d != null ? d : new OpaqueOptionDefinition(number, "Option-" + number, false, 0, 65535);
        }
        if (key.equalsIgnoreCase("OSCORE")) {
            return registry.getDefinitionByNumber(OptionNumberRegistry.OSCORE); // RFC 8613's name for it
        }
        for (OptionRegistry.Entry e : registry) {
            OptionDefinition d = e.getOptioneDefinition();
            if (d.getName().equalsIgnoreCase(key)) {
                return d;
            }
        }
        throw new IllegalArgumentException("--option " + key + ": unknown option name (give a name from RFC 7252's "
                + "registry or the extension options, e.g. Uri-Query or Request-Hash, or a number)");
    }

    private static byte[] uint(String name, String v) {
        long n;
        try {
            n = Long.parseUnsignedLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--option " + name + ": uint:" + v + " is not an unsigned integer");
        }
        if (Long.compareUnsigned(n, 0xffffffffL) > 0) {
            throw new IllegalArgumentException("--option " + name + ": uint:" + v + " does not fit 4 bytes");
        }
        int len = 0;
        for (long x = n; x != 0; x >>>= 8) {
            len++;
        }
        byte[] b = new byte[len];
        for (int i = len - 1; i >= 0; i--) {
            b[i] = (byte) n;
            n >>>= 8;
        }
        return b;
    }

    /** A Content-Format number (0-65535) or a media type Californium knows, e.g. text/plain or application/cbor. */
    static int mediaType(String flag, String v) {
        if (!v.isEmpty() && v.chars().allMatch(Character::isDigit)) {
            try {
                int n = Integer.parseInt(v);
                if (n <= 65535) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
            throw new IllegalArgumentException(flag + ": a Content-Format number is 0 to 65535, got " + v);
        }
        int n = MediaTypeRegistry.parse(v);
        if (n == MediaTypeRegistry.UNDEFINED) {
            throw new IllegalArgumentException(flag + ": unknown media type '" + v + "' (give its Content-Format number)");
        }
        return n;
    }

    private static byte[] hex(String flag, String v) {
        String h = v.startsWith("0x") || v.startsWith("0X") ? v.substring(2) : v;
        try {
            return Hex.decode(h);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": '" + v + "' is not hex (an even number of 0-9a-f)");
        }
    }

    /** Adds the options (after the URI's, so a Uri-Query given here comes after the URI's own) and the payload. */
    void apply(Request request) {
        for (Option o : options) {
            request.getOptions().addOption(o);
        }
        if (payload != null) {
            request.setPayload(payload);
        }
    }

    boolean hasPayload() {
        return payload != null;
    }
}
