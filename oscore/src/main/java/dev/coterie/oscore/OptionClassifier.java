package dev.coterie.oscore;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * RFC 8613 Section 4.1 option classes, shared by OSCORE and Group OSCORE: Uri-Host, Uri-Port,
 * Proxy-Scheme, Hop-Limit and registry options of class U stay outer; Proxy-Uri is split so
 * that only scheme and authority stay outer; Observe is both (inner value empty in
 * notifications unless {@link InnerObserve#MIRROR}); the OSCORE option itself is never inside
 * (nesting is off); everything else, known or unknown, is inner.
 */
public final class OptionClassifier {
    private final ExtensionOptionRegistry extensions;
    private final InnerObserve innerObserve;

    public OptionClassifier(ExtensionOptionRegistry extensions, InnerObserve innerObserve) {
        this.extensions = extensions;
        this.innerObserve = innerObserve;
    }

    public static final class Split {
        /** Class-E options, sorted: they go into the plaintext. */
        public final List<Option> inner = new ArrayList<>();
        /** Class-U and class-I options, sorted: they stay on the outer message. */
        public final List<Option> outer = new ArrayList<>();
        /** The class-I options encoded for the external_aad. */
        public byte[] classI = new byte[0];
    }

    /**
     * Sorts the options of a message to protect into inner and outer (Section 4.1).
     *
     * @param request whether the message is a request (Observe keeps its value inside)
     */
    public Split split(OptionSet options, boolean request) throws OscoreException {
        Split s = new Split();
        List<Option> classI = null;
        for (Option opt : options.asSortedList()) {
            int n = opt.getNumber();
            switch (n) {
                case OptionNumberRegistry.OSCORE:
                    throw new OscoreException.ProtectionRefused("message already carries an OSCORE option");
                case OptionNumberRegistry.URI_HOST:
                case OptionNumberRegistry.URI_PORT:
                case OptionNumberRegistry.PROXY_SCHEME:
                case 16: // Hop-Limit, class U per oscore-capable-proxies Section 3
                    s.outer.add(opt);
                    break;
                case OptionNumberRegistry.PROXY_URI:
                    splitProxyUri(opt.getStringValue(), s);
                    break;
                case OptionNumberRegistry.OBSERVE:
                    s.outer.add(opt);
                    // requests keep the value inside; notifications carry an empty inner Observe (4.1.3.5)
                    s.inner.add(request || innerObserve == InnerObserve.MIRROR ? opt : StandardOptionRegistry.OBSERVE.create(0));
                    break;
                default: {
                    ExtensionOption ext = extensions.byNumber(n);
                    OptionClass c = ext == null ? OptionClass.E : ext.oscoreClass();
                    if (c == OptionClass.E) {
                        s.inner.add(opt);
                    } else {
                        s.outer.add(opt);
                        if (c == OptionClass.I) {
                            if (classI == null) {
                                classI = new ArrayList<>();
                            }
                            classI.add(opt);
                        }
                    }
                }
            }
        }
        if (classI != null) {
            s.classI = Plaintext.encodeOptions(classI);
        }
        s.inner.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
        s.outer.sort((a, b) -> Integer.compare(a.getNumber(), b.getNumber()));
        return s;
    }

    /** Section 4.1.3.3: scheme and authority stay outer as a Proxy-Uri; path and query go inside. */
    private void splitProxyUri(String proxyUri, Split s) throws OscoreException {
        URI uri;
        try {
            uri = new URI(proxyUri);
        } catch (URISyntaxException e) {
            throw new OscoreException.ProtectionRefused("Proxy-Uri is not a URI");
        }
        if (uri.getScheme() == null || uri.getRawAuthority() == null) {
            throw new OscoreException.ProtectionRefused("Proxy-Uri needs a scheme and an authority");
        }
        s.outer.add(StandardOptionRegistry.PROXY_URI.create(uri.getScheme() + "://" + uri.getRawAuthority()));
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            for (String seg : path.substring(1).split("/", -1)) {
                s.inner.add(StandardOptionRegistry.URI_PATH.create(seg));
            }
        }
        String query = uri.getQuery();
        if (query != null) {
            for (String q : query.split("&")) {
                s.inner.add(StandardOptionRegistry.URI_QUERY.create(q));
            }
        }
    }

    /** The class-I options of a received message, for its external_aad. */
    public List<Option> classIOptions(OptionSet outer) {
        List<Option> list = new ArrayList<>(0);
        for (Option opt : outer.getOthers()) {
            ExtensionOption ext = extensions.byNumber(opt.getNumber());
            if (ext != null && ext.oscoreClass() == OptionClass.I) {
                list.add(opt);
            }
        }
        return list;
    }

    /** Outer options a receiver keeps: class U ones. Outer copies of class-E options are ignored (OSC-11). */
    public boolean keepOuterOnReceive(int n) {
        switch (n) {
            case OptionNumberRegistry.URI_HOST:
            case OptionNumberRegistry.URI_PORT:
            case OptionNumberRegistry.PROXY_SCHEME:
            case OptionNumberRegistry.PROXY_URI:
            case 16:
                return true;
            default: {
                ExtensionOption ext = extensions.byNumber(n);
                return ext != null && ext.oscoreClass() != OptionClass.E;
            }
        }
    }

}
