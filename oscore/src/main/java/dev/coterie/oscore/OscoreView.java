package dev.coterie.oscore;

import dev.coterie.keystore.AeadFailure;
import org.eclipse.californium.core.coap.Request;

/**
 * RFC 8613's views of an {@link OscoreContext}: the one mode in which a plain OSCORE context
 * protects and verifies requests and responses, with the 5-element AAD and no signature.
 *
 * <p>Three separate objects, so that none can be cast into another role (review A, M2): the
 * {@link Client} that {@link OscoreContext#protector()} hands out protects requests and verifies
 * their responses; the {@link Server} only the pipeline reaches verifies requests; and its
 * {@link Responder} seals responses, under the request nonce only through the one-shot claim of
 * identifiers the pipeline built for a verified request.
 */
final class OscoreView {
    private OscoreView() {
    }

    private static String describe(OscoreContext ctx) {
        return "OSCORE: " + ctx.aead().coseName();
    }

    /** The client: protects requests, verifies their responses. */
    static final class Client implements RequestProtector, ResponseVerifier {
        private final OscoreContext ctx;

        Client(OscoreContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public ProtectionMode mode() {
            return ProtectionMode.OSCORE;
        }

        @Override
        public String contextName() {
            return ctx.name();
        }

        @Override
        public String describe() {
            return OscoreView.describe(ctx);
        }

        @Override
        public boolean understandsGroupFlag() {
            return false;
        }

        /* ---------------------------------------------------------------- client: request */

        @Override
        public SealedRequest seal(byte[] classI, byte[] plaintext, boolean observe) throws OscoreException {
            ctx.useSenderKey();
            SealingNonce n = SealingNonce.draw(ctx.senderSequence(), ctx.senderIdRaw());
            byte[] kid = ctx.senderIdRaw();
            byte[] piv = n.partialIvToSend();
            byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(ctx.algorithmsCbor(), kid, piv, classI));
            byte[] ct = ctx.senderKey().seal(n.nonce(ctx.commonIvRaw(), ctx.aead().nonceLength()), aad, plaintext);
            RequestIdentifiers ids = RequestIdentifiers.builder().mode(ProtectionMode.OSCORE).contextName(ctx.name())
                    .kid(kid).partialIv(piv).kidContext(ctx.idContextRaw()).observe(observe).responseVerifier(this).build();
            return new SealedRequest(new OscoreOptionValue(piv, ctx.idContextRaw(), kid, false).encode(), ct, null, ids);
        }

        /* ---------------------------------------------------------------- client: response */

        @Override
        public OpenedResponse open(RequestIdentifiers request, ReceivedCose in) throws OscoreException {
            byte[] piv = in.option().partialIv();
            SealingNonce n = piv == null ? request.requestNonceForVerification() : null;
            byte[] nonce = n != null ? n.nonce(ctx.commonIvRaw(), ctx.aead().nonceLength())
                    : Nonce.build(ctx.commonIvRaw(), ctx.aead().nonceLength(), ctx.recipientIdRaw(), piv);
            byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(ctx.algorithmsCbor(),
                    request.kidRaw(), request.partialIvRaw(), in.classI()));
            byte[] pt;
            ctx.checkRecipientKey();
            try {
                pt = ctx.recipientKey().open(nonce, aad, in.payload());
            } catch (AeadFailure e) {
                ctx.countFailedDecryption();
                throw new OscoreException.DecryptionFailed("response did not authenticate");
            }
            return new OpenedResponse(pt, "", 0, new OscorePeer(ProtectionMode.OSCORE, ctx.name(), ctx.recipientIdRaw(), null),
                    describe());
        }
    }

    /** The server: verifies requests from its one recipient. */
    static final class Server implements RequestVerifier {
        private final OscoreContext ctx;
        private final Responder responder;

        Server(OscoreContext ctx) {
            this.ctx = ctx;
            this.responder = new Responder(ctx);
        }

        @Override
        public ProtectionMode mode() {
            return ProtectionMode.OSCORE;
        }

        @Override
        public String contextName() {
            return ctx.name();
        }

        @Override
        public String describe() {
            return OscoreView.describe(ctx);
        }

        /* ---------------------------------------------------------------- server: request */

        @Override
        public Freshness freshness() {
            return ctx.freshness();
        }

        @Override
        public byte[] open(ReceivedCose in) throws OscoreException {
            byte[] kid = in.option().kid();
            byte[] piv = in.option().partialIv();
            ctx.checkRecipientKey();
            byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(ctx.algorithmsCbor(), kid, piv, in.classI()));
            try {
                return ctx.recipientKey().open(Nonce.build(ctx.commonIvRaw(), ctx.aead().nonceLength(), kid, piv), aad, in.payload());
            } catch (AeadFailure e) {
                ctx.countFailedDecryption();
                throw new OscoreException.DecryptionFailed("request did not authenticate");
            }
        }

        @Override
        public boolean echoRecoveryAllowed(Request received) {
            return !received.isMulticast();
        }

        @Override
        public boolean responseMayReuseNonce() {
            return true;
        }

        @Override
        public ResponseProtector responseProtector() {
            return responder;
        }

        @Override
        public OscorePeer peer(OscoreOptionValue option) {
            return new OscorePeer(ProtectionMode.OSCORE, ctx.name(), option.kid(), option.kidContext());
        }
    }

    /** The server's responses to verified requests. */
    static final class Responder implements ResponseProtector {
        private final OscoreContext ctx;

        Responder(OscoreContext ctx) {
            this.ctx = ctx;
        }

        /* ---------------------------------------------------------------- server: response */

        @Override
        public SealedResponse seal(RequestIdentifiers request, byte[] classI, byte[] plaintext, boolean notification)
                throws OscoreException {
            ctx.useSenderKey();
            // the request nonce once at most (OSC-14); notifications always draw their own (OSC-17)
            SealingNonce n = notification ? null : request.claimReusableNonce();
            if (n == null) {
                n = SealingNonce.draw(ctx.senderSequence(), ctx.senderIdRaw());
            }
            byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(ctx.algorithmsCbor(),
                    request.kidRaw(), request.partialIvRaw(), classI));
            byte[] ct = ctx.senderKey().seal(n.nonce(ctx.commonIvRaw(), ctx.aead().nonceLength()), aad, plaintext);
            return new SealedResponse(new OscoreOptionValue(n.partialIvToSend(), null, null, false).encode(), ct,
                    ProtectionMode.OSCORE, ctx.name(), OscoreView.describe(ctx));
        }
    }
}
