package dev.coterie.oscore;

/**
 * The COSE parts of a received protected message that a view needs to verify it: the decoded
 * OSCORE option and its exact bytes (they enter the Group OSCORE AAD), the class-I options
 * encoded for the AAD, the payload, and the request hash (a deterministic request's Request-Hash,
 * or the one its response is bound to).
 */
public record ReceivedCose(OscoreOptionValue option, byte[] optionBytes, byte[] classI, byte[] payload, byte[] requestHash) {
}
