package dev.coterie.tests;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.ProtectionPipeline;
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;

/**
 * Child process of {@link SigkillSequenceTest}: loads the C.1 client context from a state
 * directory and protects requests forever, printing each Partial IV (as a sequence number)
 * once the request is protected, i.e. when it would go on the wire.
 */
public final class SequenceHammer {
    private SequenceHammer() {
    }

    public static void main(String[] args) throws Exception {
        OscoreContext ctx = Rfc8613Contexts.C1.buildWithBlock(Rfc8613Contexts.CLIENT_ID, Rfc8613Contexts.SERVER_ID,
                Path.of(args[0]), Integer.parseInt(args[1]));
        ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 64), false);
        out.println("ready");
        out.flush();
        for (int mid = 0;; mid = (mid + 1) & 0xffff) {
            Request r = new Request(Code.GET, Type.CON);
            r.setMID(mid);
            r.setToken(new byte[] {1});
            r.getOptions().setUriPath("hello");
            ProtectionPipeline.ProtectedRequest pr = p.protectRequest(r, ctx.protector());
            long seq = 0;
            for (byte b : pr.identifiers().partialIv()) {
                seq = (seq << 8) | (b & 0xff);
            }
            out.println(seq);
            out.flush();
        }
    }
}
