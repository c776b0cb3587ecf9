package dev.coterie.oscore;

import java.util.Objects;
import java.util.function.Consumer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageFormatException;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.DataParser;
import org.eclipse.californium.core.network.serialization.MessageHeader;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.elements.util.DatagramReader;

/**
 * How a client endpoint's parser treats a response it cannot take as it is. Californium drops
 * an unrecognized elective option from a response and discards a response with an unrecognized
 * critical option or a format error, so the requester only ever sees a timeout. A proxy must
 * instead answer its own client (RFC 7252 Section 5.7.1: 5.02 for a response it cannot
 * process or with an unrecognized unsafe option, unrecognized Safe-to-Forward options passed
 * on; oscore-capable-proxies OCP-02): its upstream endpoints keep unrecognized options in
 * responses, as opaque options named {@code Unknown-N}, and report the Token of a response
 * that failed to parse.
 *
 * @param keepUnknownOptions keep every option of a response that the registry does not know
 * @param malformedResponse told the Token of each response that could not be parsed (before it is discarded)
 */
public record ResponseParsing(boolean keepUnknownOptions, Consumer<Token> malformedResponse) {
    /** Californium's behaviour: unknown elective options dropped, nothing reported. */
    public static final ResponseParsing STANDARD = new ResponseParsing(false, t -> { });

    public ResponseParsing {
        Objects.requireNonNull(malformedResponse);
    }

    /** A UDP parser that treats responses as this says; {@code onHeader} runs as each datagram's parsing begins. */
    public DataParser udpParser(boolean strictEmptyMessageFormat, OptionRegistry registry, Runnable onHeader) {
        ResponseParsing responses = this;
        return new UdpDataParser(strictEmptyMessageFormat, registry) {
            @Override
            protected MessageHeader parseHeader(DatagramReader reader) {
                onHeader.run();
                return super.parseHeader(reader);
            }

            @Override
            public Option createOption(int code, int number, byte[] value) {
                if (responses.keepUnknownOptions() && CoAP.isResponse(code)
                        && optionRegistry.getDefinitionByNumber(code, number) == null) {
                    return new Option(new OpaqueOptionDefinition(number, "Unknown-" + number, false), value);
                }
                return super.createOption(code, number, value);
            }

            @Override
            protected Message parseMessage(DatagramReader reader, MessageHeader header, Message message) {
                try {
                    return super.parseMessage(reader, header, message);
                } catch (MessageFormatException e) {
                    if (CoAP.isResponse(header.getCode()) && header.getToken() != null) {
                        responses.malformedResponse().accept(header.getToken());
                    }
                    throw e;
                }
            }
        };
    }
}
