package dev.coterie.oscore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.coap.option.IntegerOptionDefinition;
import org.eclipse.californium.core.coap.option.MapBasedOptionRegistry;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.coap.option.OptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * The one table of option numbers that IANA has not assigned (ARCHITECTURE.md principle 5).
 * Defaults are the numbers the drafts suggest (digest Section 0.1); configuration may override
 * any of them by name. Instances are immutable; {@link #with} returns a changed copy.
 */
public final class ExtensionOptionRegistry {
    public static final String MULTICAST_TIMEOUT = "Multicast-Timeout";
    public static final String FEEDBACK_DIVIDER = "Feedback-Divider";
    public static final String GROUP_ETAG = "Group-ETag";
    public static final String LISTEN_TO_MULTICAST_RESPONSES = "Listen-To-Multicast-Responses";
    public static final String PROXY_CRI = "Proxy-Cri";
    public static final String PROXY_SCHEME_NUMBER = "Proxy-Scheme-Number";
    public static final String REPLY_FROM = "Reply-From";
    public static final String REQUEST_HASH = "Request-Hash";
    public static final String PADDING = "Padding";

    /** Option numbers IANA has assigned that this work touches (digest 0.1) plus Q-Block1/2. */
    private static final java.util.Set<Integer> ASSIGNED = java.util.Set.of(1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15,
            16, 17, 19, 20, 23, 27, 28, 31, 35, 39, 60, 252, 258, 292);

    private static final ExtensionOptionRegistry DEFAULTS = new ExtensionOptionRegistry(List.of(
            new ExtensionOption(MULTICAST_TIMEOUT, 2, OptionClass.U, ExtensionOption.Format.UINT, 0, 4, false),
            new ExtensionOption(FEEDBACK_DIVIDER, 18, OptionClass.E, ExtensionOption.Format.UINT, 0, 1, false),
            new ExtensionOption(GROUP_ETAG, 24, OptionClass.U, ExtensionOption.Format.OPAQUE, 1, 8, true),
            new ExtensionOption(LISTEN_TO_MULTICAST_RESPONSES, 47, OptionClass.U, ExtensionOption.Format.OPAQUE, 3, 1024, false),
            new ExtensionOption(PROXY_CRI, 235, OptionClass.U, ExtensionOption.Format.OPAQUE, 1, 1023, false),
            new ExtensionOption(PROXY_SCHEME_NUMBER, 239, OptionClass.U, ExtensionOption.Format.UINT, 0, 3, false),
            new ExtensionOption(REPLY_FROM, 248, OptionClass.U, ExtensionOption.Format.OPAQUE, 5, 1034, false),
            // U in a Deterministic Request, I in its response (digest 3.2, Q-11); the response side is Group OSCORE's
            new ExtensionOption(REQUEST_HASH, 548, OptionClass.U, ExtensionOption.Format.OPAQUE, 0, 1024, false),
            new ExtensionOption(PADDING, 64988, OptionClass.E, ExtensionOption.Format.OPAQUE, 0, 65535, true)));

    private final Map<String, ExtensionOption> byName = new LinkedHashMap<>();
    private final Map<Integer, ExtensionOption> byNumber = new LinkedHashMap<>();

    private ExtensionOptionRegistry(Collection<ExtensionOption> options) {
        for (ExtensionOption o : options) {
            if (byNumber.containsKey(o.number())) {
                throw new IllegalArgumentException("option number " + o.number() + " used by both "
                        + byNumber.get(o.number()).name() + " and " + o.name());
            }
            if (ASSIGNED.contains(o.number())) {
                throw new IllegalArgumentException(o.name() + ": number " + o.number() + " is an assigned CoAP option");
            }
            byName.put(o.name(), o);
            byNumber.put(o.number(), o);
        }
    }

    /**
     * Hop-Limit (RFC 8768, number 16, uint of one byte, class U per oscore-capable-proxies): an
     * assigned option that Californium's standard registry lacks, so it is added to every
     * registry here; it is not an extension and cannot be renumbered.
     */
    public static final IntegerOptionDefinition HOP_LIMIT = new IntegerOptionDefinition(16, "Hop-Limit", true, 1, 1);

    public static ExtensionOptionRegistry defaults() {
        return DEFAULTS;
    }

    /** A copy with {@code name} moved to {@code number}. */
    public ExtensionOptionRegistry with(String name, int number) {
        ExtensionOption old = byName.get(name);
        if (old == null) {
            throw new IllegalArgumentException("unknown extension option '" + name + "'; known: " + byName.keySet());
        }
        List<ExtensionOption> list = new ArrayList<>();
        for (ExtensionOption o : byName.values()) {
            list.add(o == old ? old.withNumber(number) : o);
        }
        return new ExtensionOptionRegistry(list);
    }

    public ExtensionOption byName(String name) {
        return byName.get(name);
    }

    public ExtensionOption byNumber(int number) {
        return byNumber.get(number);
    }

    public Collection<ExtensionOption> all() {
        return byName.values();
    }

    /** Californium's standard options plus these, for parsers and option sets. */
    public OptionRegistry californiumRegistry() {
        List<OptionDefinition> defs = new ArrayList<>();
        for (ExtensionOption o : byName.values()) {
            if (o.format() == ExtensionOption.Format.UINT) {
                defs.add(new IntegerOptionDefinition(o.number(), o.name(), !o.repeatable(), o.minLength(), o.maxLength()));
            } else {
                defs.add(new OpaqueOptionDefinition(o.number(), o.name(), !o.repeatable(), o.minLength(), o.maxLength()));
            }
        }
        defs.add(HOP_LIMIT);
        return new MapBasedOptionRegistry(StandardOptionRegistry.getDefaultOptionRegistry(),
                defs.toArray(new OptionDefinition[0]));
    }
}
