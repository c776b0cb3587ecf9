package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupObservationProtection;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.GroupObservationSecurity;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.TicketRequest;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * Coterie's own vectors for a group observation protected with Group OSCORE
 * (observe-multicast-notifications Section 9, digest 6.6, and multicast-notifications-proxy
 * Section 4), which no one has published: the client's pairwise registration, the server's
 * phantom request in group mode under its own Sender ID (ph_req), the first notification bound
 * to it (last_notif), the protected informative response, and the ticket request a client builds
 * from the verified ph_req and the exact tp_info bytes (MNP-03).
 *
 * <p>Everything follows from fixed inputs: the keys, Sender IDs and Sender Sequence Numbers of
 * {@link OwnGroupVectors}' EdDSA group, Tokens, Message IDs, tp_info, the Observe number and the
 * payload. The server side is computed with the same calls as {@code GroupObservedResource}
 * (phantom through {@link GroupObservationProtection#protectPhantom}, notification through
 * {@link ProtectionPipeline#protectResponse} with the phantom's binding, informative response in
 * the registration's context); only the fixed sequence numbers come from a test-vector state
 * store. {@link #verifyPublished} then takes the published bytes only and runs them through the
 * client's path: the informative response verified as the answer to the registration, then
 * {@link GroupObservationClient#check} with Group OSCORE (the phantom verified without replay
 * check, last_notif as its response).
 */
final class OwnObservationVectors {
    static final String KIND_INFORMATIVE = "group-observation-informative-response";
    static final String KIND_PHANTOM = "group-observation-phantom-request";
    static final String KIND_TICKET = "group-observation-ticket-request";

    static final long CLIENT_SSN = 15;
    static final long SERVER_SSN = 21;
    /** CON GET, MID 0x2001, Token 5a5b, Observe 0, Uri-Path "alarm": the client's registration. */
    static final String REGISTRATION = "42012001" + "5a5b" + "60" + "55616c61726d";
    static final String TPI_SERVER = "192.0.2.10:5683";
    static final String TPI_CLIENT = "224.0.1.190:5683";
    static final String TPI_TOKEN = "7a7b7c7d7e7f8081";
    static final int PHANTOM_MID = 0x3001;
    static final int INFORMATIVE_MID = 0x4001;
    static final int FIRST_OBSERVE = 4096;
    static final String FIRST_PAYLOAD = "state 0";
    static final String TICKET_TOKEN = "9a9b";
    static final int TICKET_MID = 0x5001;
    static final String ORIGINAL_URI = "coap://192.0.2.10/alarm";

    private final OwnGroupVectors owner;
    private final CryptoProvider provider;
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    private final org.eclipse.californium.core.coap.option.OptionRegistry registry =
            ExtensionOptionRegistry.defaults().californiumRegistry();

    OwnObservationVectors(OwnGroupVectors owner, CryptoProvider provider) {
        this.owner = owner;
        this.provider = provider;
    }

    /** The fixed inputs of every group observation vector. */
    static void inputs(ObjectNode in, String kind) {
        in.put("kind", kind);
        in.put("signature", "EdDSA");
        in.put("master_secret", OwnGroupVectors.SECRET);
        in.put("master_salt", OwnGroupVectors.SALT);
        in.put("gid", OwnGroupVectors.GID);
        in.put("aead", 10);
        in.put("group_encryption", 10);
        in.put("client_sender_id", "c1");
        in.put("server_sender_id", "a1");
        in.put("client_private_key", OwnGroupVectors.CLIENT_KEY);
        in.put("server_private_key", OwnGroupVectors.SERVER_KEY);
        in.put("group_manager_private_key", OwnGroupVectors.GM_KEY);
        in.put("client_sender_sequence_number", CLIENT_SSN);
        in.put("server_sender_sequence_number", SERVER_SSN);
        in.put("unprotected_registration", REGISTRATION);
        in.put("tpi_server", TPI_SERVER);
        in.put("tpi_client", TPI_CLIENT);
        in.put("tpi_token", TPI_TOKEN);
        in.put("phantom_mid", PHANTOM_MID);
        in.put("informative_response_mid", INFORMATIVE_MID);
        in.put("informative_response_content_format", InformativeResponse.DEFAULT_CONTENT_FORMAT);
        in.put("first_notification_observe", FIRST_OBSERVE);
        in.put("first_notification_payload", FIRST_PAYLOAD);
        in.put("ticket_token", TICKET_TOKEN);
        in.put("ticket_mid", TICKET_MID);
        in.put("original_uri", ORIGINAL_URI);
        in.put("listen_to_multicast_responses", 47);
        in.put("note", "the registration is protected in pairwise mode with the client's SSN; the phantom in group mode "
                + "with the server's (kid a1, kid context = Gid), last_notif with the server's next SSN; the informative "
                + "response reuses the registration's nonce. The first notification is 2.05, Observe, Content-Format 0, "
                + "Max-Age 60; the informative response 5.03, CON, Content-Format as given, Max-Age 0, with tp_info, "
                + "ph_req and last_notif");
    }

    /** Everything the three vectors show. */
    static final class Computed {
        byte[] registration;
        byte[] phantomWire;
        byte[] phReq;
        byte[] lastNotif;
        byte[] tpInfo;
        byte[] informativePlainPayload;
        byte[] informative;
        byte[] ticket;
    }

    private static InetSocketAddress address(String v) throws Exception {
        int i = v.lastIndexOf(':');
        return new InetSocketAddress(InetAddress.getByName(v.substring(0, i)), Integer.parseInt(v.substring(i + 1)));
    }

    /** The two members of the EdDSA group, each with its own database. */
    private GroupContext[] members(JsonNode in) throws Exception {
        return owner.members(in, owner.keys(in), in.get("client_sender_sequence_number").asLong(),
                in.get("server_sender_sequence_number").asLong());
    }

    /** Client side of the registration: the member, its database, and the protected registration. */
    private record ClientSide(GroupContext ctx, GroupContextDb db, ProtectionPipeline.ProtectedRequest registration) {
    }

    private ClientSide client(JsonNode in, GroupContext client) throws Exception {
        byte[] sid = Hex.decode(in.get("server_sender_id").asText());
        Request plain = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_registration").asText()));
        GroupContextDb db = new GroupContextDb().add(client);
        return new ClientSide(client, db, pipeline.protectRequest(plain, client.pairwise(sid)));
    }

    Computed compute(JsonNode in) throws Exception {
        GroupContext[] m = members(in);
        ClientSide cs = client(in, m[0]);
        Computed c = new Computed();
        c.registration = new UdpDataSerializer().getByteArray(cs.registration().wire());

        // the server: the registration verified, then what GroupObservedResource.start does, then the informative response
        GroupContext server = m[1];
        GroupContextDb serverDb = new GroupContextDb().add(server);
        ProtectionPipeline.Unprotected<Request> reg = pipeline.unprotectRequest(
                (Request) new UdpDataParser().parseMessage(c.registration), serverDb);
        Request phantom = new Request(CoAP.Code.GET, CoAP.Type.NON);
        phantom.setToken(Hex.decode(in.get("tpi_token").asText()));
        phantom.setMID(in.get("phantom_mid").asInt());
        phantom.getOptions().setObserve(0);
        for (String s : reg.plain().getOptions().getUriPath()) {
            phantom.getOptions().addUriPath(s);
        }
        GroupObservationSecurity security = new GroupObservationProtection(server, serverDb, pipeline);
        GroupObservationSecurity.Phantom ph = security.protectPhantom(phantom);
        Request wire = ph.wire();
        wire.setMID(in.get("phantom_mid").asInt());
        c.phantomWire = new UdpDataSerializer().getByteArray(wire);
        c.phReq = TransportIndependent.encode(wire);

        Response first = new Response(CoAP.ResponseCode.CONTENT);
        first.getOptions().setObserve(in.get("first_notification_observe").asInt()).setContentFormat(0).setMaxAge(60);
        first.setPayload(in.get("first_notification_payload").asText());
        Response firstWire = pipeline.protectResponse(first, ph.binding());
        c.lastNotif = TransportIndependent.encode(firstWire);

        TpInfo tp = TpInfo.udp(address(in.get("tpi_server").asText()), address(in.get("tpi_client").asText()),
                Hex.decode(in.get("tpi_token").asText()));
        c.informativePlainPayload = InformativeResponse.of(tp, c.phReq, c.lastNotif).encode();
        c.tpInfo = TicketRequest.tpInfoBytes(c.informativePlainPayload);
        Response info = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        info.getOptions().setContentFormat(in.get("informative_response_content_format").asInt()).setMaxAge(0);
        info.setPayload(c.informativePlainPayload);
        Response infoWire = pipeline.protectResponse(info, reg.identifiers());
        infoWire.setType(CoAP.Type.CON);
        infoWire.setMID(in.get("informative_response_mid").asInt());
        infoWire.setToken(cs.registration().wire().getToken());
        c.informative = new UdpDataSerializer().getByteArray(infoWire);

        // the client: the ticket request from the verified ph_req and the exact tp_info bytes (MNP-03)
        Request ticket = TicketRequest.build(c.phReq, c.tpInfo, java.net.URI.create(in.get("original_uri").asText()),
                Token.fromProvider(Hex.decode(in.get("ticket_token").asText())), in.get("listen_to_multicast_responses").asInt(),
                registry);
        ticket.setMID(in.get("ticket_mid").asInt());
        c.ticket = new UdpDataSerializer().getByteArray(ticket);
        return c;
    }

    /** The client's side of the fixed exchange: its security, its registration and the identifiers it was sent with. */
    record ClientPath(GroupObservationSecurity security, Request own, dev.coterie.oscore.RequestIdentifiers registration,
                      ProtectionPipeline pipeline, InetSocketAddress server) {
        /** The protected informative response verified as the answer to the registration (its sender attached). */
        Response informative(byte[] bytes) throws dev.coterie.oscore.OscoreException {
            Response wire = (Response) new UdpDataParser().parseMessage(bytes);
            wire.setSourceContext(new AddressEndpointContext(server));
            return pipeline.unprotectResponse(wire, registration).plain();
        }
    }

    ClientPath clientPath(JsonNode in) throws Exception {
        GroupContext[] m = members(in);
        ClientSide cs = client(in, m[0]);
        Request own = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_registration").asText()));
        return new ClientPath(new GroupObservationProtection(cs.ctx(), cs.db(), pipeline), own, cs.registration().identifiers(),
                pipeline, address(in.get("tpi_server").asText()));
    }

    /** What a client takes from the published bytes: the verified phantom, its binding and the first notification. */
    record Verified(GroupObservationClient.Parsed parsed, Request ticketPhantom) {
    }

    /**
     * The client's path over the published bytes only (with the client's own inputs): the
     * informative response verified as the answer to the registration; {@link
     * GroupObservationClient#check} with Group OSCORE, which verifies the phantom from ph_req
     * (no replay check) and last_notif as its response; the phantom rebuilt from the published
     * ticket request (Proxy-Uri and Listen-To-Multicast-Responses removed, as the last proxy
     * does) equal to ph_req, and its option 47 the informative response's exact tp_info bytes.
     */
    Verified verifyPublished(JsonNode in, byte[] informative, byte[] ticket) throws Exception {
        ClientPath path = clientPath(in);
        Response plain = path.informative(informative);
        GroupObservationClient.Parsed parsed = GroupObservationClient.check(plain, path.own(),
                in.get("informative_response_content_format").asInt(), registry, path.security());
        Request t = (Request) new UdpDataParser().parseMessage(ticket);
        int ltmr = in.get("listen_to_multicast_responses").asInt();
        byte[] carried = null;
        OptionSet rest = new OptionSet();
        for (Option o : t.getOptions().asSortedList()) {
            if (o.getNumber() == ltmr) {
                carried = o.getValue();
            } else if (o.getNumber() != org.eclipse.californium.core.coap.OptionNumberRegistry.PROXY_URI) {
                rest.addOption(o);
            }
        }
        byte[] tpInfo = TicketRequest.tpInfoBytes(plain.getPayload());
        if (carried == null || !Arrays.equals(carried, tpInfo)) {
            throw new VectorRunner.Mismatch("ticket Listen-To-Multicast-Responses", Hex.encode(tpInfo),
                    carried == null ? "none" : Hex.encode(carried));
        }
        Request rebuilt = new Request(t.getCode(), CoAP.Type.NON);
        rebuilt.setOptions(rest);
        rebuilt.setPayload(t.getPayload());
        byte[] phReq = InformativeResponse.decode(plain.getPayload()).phReq();
        if (!Arrays.equals(TransportIndependent.encode(rebuilt), phReq)) {
            throw new VectorRunner.Mismatch("phantom rebuilt from the ticket request", Hex.encode(phReq),
                    Hex.encode(TransportIndependent.encode(rebuilt)));
        }
        return new Verified(parsed, rebuilt);
    }

    /** The three entries' outputs (each shows what its vector is about, with what it depends on). */
    static void outputs(ObjectNode out, String kind, Computed c) {
        switch (kind) {
            case KIND_PHANTOM -> {
                out.put("protected_registration", Hex.encode(c.registration));
                out.put("protected_phantom_request", Hex.encode(c.phantomWire));
                out.put("ph_req", Hex.encode(c.phReq));
            }
            case KIND_INFORMATIVE -> {
                out.put("protected_registration", Hex.encode(c.registration));
                out.put("ph_req", Hex.encode(c.phReq));
                out.put("last_notif", Hex.encode(c.lastNotif));
                out.put("tp_info", Hex.encode(c.tpInfo));
                out.put("informative_response_payload", Hex.encode(c.informativePlainPayload));
                out.put("protected_informative_response", Hex.encode(c.informative));
            }
            case KIND_TICKET -> {
                out.put("protected_informative_response", Hex.encode(c.informative));
                out.put("tp_info", Hex.encode(c.tpInfo));
                out.put("ticket_request", Hex.encode(c.ticket));
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    /** Recomputes an entry and compares every output it lists; then the published bytes go through the client's path. */
    void check(JsonNode v) throws Exception {
        JsonNode in = v.get("inputs");
        Computed c = compute(in);
        ObjectNode expected = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        outputs(expected, in.get("kind").asText(), c);
        JsonNode out = v.get("outputs");
        java.util.Iterator<String> names = expected.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            VectorRunner.expect(name, out, Hex.decode(expected.get(name).asText()));
        }
        byte[] informative = out.has("protected_informative_response")
                ? Hex.decode(out.get("protected_informative_response").asText()) : c.informative;
        byte[] ticket = out.has("ticket_request") ? Hex.decode(out.get("ticket_request").asText()) : c.ticket;
        Verified ok;
        try {
            ok = verifyPublished(in, informative, ticket);
        } catch (GroupObservationClient.Withdraw e) {
            throw new VectorRunner.Mismatch("client verification", "the informative response is used", e.getMessage());
        }
        if (out.has("ph_req") && !Arrays.equals(TransportIndependent.encode(ok.ticketPhantom()),
                Hex.decode(out.get("ph_req").asText()))) {
            throw new VectorRunner.Mismatch("ph_req", out.get("ph_req").asText(), "another phantom in the ticket request");
        }
    }
}
