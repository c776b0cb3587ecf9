package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Request;

/**
 * A protected request type that carries the binding its responses need. Californium hands
 * observations back as plain copies of the registration request; {@link #rebind} turns such a
 * copy back into the typed request, sharing the same binding (OSC-22, GRP-20).
 */
public interface RebindableRequest {
    Request rebind(Request plainCopy);
}
