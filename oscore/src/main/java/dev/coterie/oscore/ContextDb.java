package dev.coterie.oscore;

/** Where a server finds the Recipient Context for an incoming request: by (kid context, kid). */
public interface ContextDb {
    /**
     * @param kidContext the kid context of the request, or null if it carried none
     * @param kid the kid of the request
     * @return the context, or null if none matches
     */
    OscoreContext find(byte[] kidContext, byte[] kid);
}
