package dev.coterie.oscore;

/** A client's view that verifies the responses to one protected request. */
public interface ResponseVerifier {
    /** Whether the Group Flag (0x20) is understood here. */
    boolean understandsGroupFlag();

    /**
     * Finds the responder (GRP-22: the addressed member of a pairwise request; a newer epoch
     * after a rekey, GRP-21), verifies and decrypts. Returns the plaintext and who sent it.
     */
    OpenedResponse open(RequestIdentifiers request, ReceivedCose in) throws OscoreException;

    /**
     * A verified response's plaintext and its sender: a stable key for the responder (its
     * credential, so that a Sender ID change across epochs is the same server), the order of the
     * epoch it used (higher is newer; ordering never treats an older epoch as newer), and the peer.
     */
    record OpenedResponse(byte[] plaintext, String responder, int epochOrder, OscorePeer peer, String description) {
    }
}
