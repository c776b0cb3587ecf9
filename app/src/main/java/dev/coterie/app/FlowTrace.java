package dev.coterie.app;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.SecurityTrace;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

/**
 * Prints OSCORE exchanges in the style of RFC 8613's message-flow figures: for each message
 * the CoAP header, the outer view (what travels: outer code, class-U options, OSCORE option
 * and Partial IV) and the inner view (what the endpoints see: real code, class-E options,
 * payload). Key material never appears; the ciphertext is shown only by its length.
 */
public final class FlowTrace implements SecurityTrace {
    private final PrintStream out;
    private final String left;
    private final String right;

    public FlowTrace(PrintStream out, String left, String right) {
        this.out = out;
        this.left = left;
        this.right = right;
    }

    @Override
    public void onMessage(SecurityTrace.Event event, Message plain, Message onWire, SecurityTrace.Info info) {
        String how = info.description();
        String note = info.note();
        print(event.name(), plain, onWire, info.context(), how == null ? note : note == null ? how : how + "; " + note);
    }

    private synchronized void print(String event, Message plain, Message onWire, String context, String note) {
        boolean request = onWire instanceof Request;
        String arrow = request ? left + " ---> " + right : left + " <--- " + right;
        StringBuilder sb = new StringBuilder();
        sb.append(arrow).append("  ").append(onWire.getType()).append(" MID=")
                .append(onWire.hasMID() ? onWire.getMID() : "-").append(" Token=")
                .append(onWire.getToken() == null ? "-" : onWire.getTokenString());
        sb.append("   [").append(describe(event, onWire, context));
        if (note != null) {
            sb.append("; ").append(note);
        }
        sb.append("]\n");
        sb.append("            outer  ").append(codeOf(onWire));
        appendOptions(sb, onWire, false);
        if (onWire.getPayloadSize() > 0 && onWire.getOptions().hasOscore()) {
            sb.append("\n                   payload: ").append(onWire.getPayloadSize()).append(" bytes ciphertext+tag");
        } else if (onWire.getPayloadSize() > 0) {
            sb.append("\n                   payload: \"").append(printable(onWire.getPayload())).append('"');
        }
        if (plain != null && plain != onWire) {
            sb.append("\n            inner  ").append(codeOf(plain));
            appendOptions(sb, plain, event.equals("RESPONSE_VERIFIED"));
            if (plain.getPayloadSize() > 0) {
                sb.append("\n                   payload: \"").append(printable(plain.getPayload())).append('"');
            }
        }
        out.println(sb);
    }

    private static String describe(String event, Message wire, String ctx) {
        String what;
        switch (event) {
            case "REQUEST_PROTECTED": what = "request protected"; break;
            case "REQUEST_VERIFIED": what = "request verified"; break;
            case "RESPONSE_PROTECTED": what = "response protected"; break;
            case "RESPONSE_VERIFIED": what = "response verified"; break;
            default: what = "REJECTED"; break;
        }
        StringBuilder sb = new StringBuilder(what);
        if (ctx != null) {
            sb.append(", context ").append(ctx);
        }
        byte[] v = wire.getOptions().getOscore();
        if (v != null) {
            try {
                OscoreOptionValue o = OscoreOptionValue.decode(v, true);
                if (o.partialIv() != null) {
                    long seq = 0;
                    for (byte b : o.partialIv()) {
                        seq = (seq << 8) | (b & 0xff);
                    }
                    sb.append(", Partial IV ").append(Hex.encode(o.partialIv())).append(" (sequence number ").append(seq).append(')');
                } else {
                    sb.append(", no Partial IV (request nonce reused)");
                }
                if (o.kid() != null) {
                    sb.append(", kid ").append(o.kid().length == 0 ? "''" : Hex.encode(o.kid()));
                }
                if (o.kidContext() != null) {
                    sb.append(", kid context ").append(Hex.encode(o.kidContext()));
                }
                if (o.groupFlag()) {
                    sb.append(", Group Flag");
                }
            } catch (Exception e) {
                sb.append(", undecodable OSCORE option");
            }
        }
        return sb.toString();
    }

    private static String codeOf(Message m) {
        if (m instanceof Request r) {
            return r.getCode().name();
        }
        Response r = (Response) m;
        return r.getCode().toString() + " " + r.getCode().name();
    }

    private static void appendOptions(StringBuilder sb, Message m, boolean verifiedResponse) {
        for (Option o : m.getOptions().asSortedList()) {
            if (verifiedResponse && o.getNumber() == OptionNumberRegistry.OBSERVE) {
                // on the wire the inner Observe of a notification is empty (RFC 8613 4.1.3.5.2)
                sb.append(" | Observe: (empty; delivered as ").append(o.toValueString()).append(", ordered by Partial IV)");
                continue;
            }
            sb.append(" | ").append(o.getNumber() == OptionNumberRegistry.OSCORE ? "OSCORE" : o.getDefinition().getName()).append(": ");
            if (o.getNumber() == OptionNumberRegistry.OSCORE) {
                sb.append(o.getLength() == 0 ? "(empty)" : Hex.encode(o.getValue()));
            } else {
                sb.append(o.toValueString());
            }
        }
    }

    private static String printable(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        if (s.length() > 60) {
            s = s.substring(0, 57) + "...";
        }
        return s.replace("\n", "\\n").replaceAll("[^\\x20-\\x7e]", ".");
    }
}
