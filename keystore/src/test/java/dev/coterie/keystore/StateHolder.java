package dev.coterie.keystore;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Child process of {@link StateOwnershipTest}: a second owner in another JVM.
 * {@code hold DIR ID} loads the context, takes a number, prints "held N" and keeps the context
 * until its standard input ends, then closes it and prints "closed". {@code try DIR ID} loads it
 * and prints "loaded N", or prints "refused " and the message and exits with status 3.
 */
public final class StateHolder {
    private StateHolder() {
    }

    public static void main(String[] args) throws Exception {
        SecurityStateStore store = SecurityStateStore.open(Path.of(args[1]), 10);
        ContextState s;
        try {
            s = store.load(args[2]);
        } catch (StateInUseException e) {
            System.out.println("refused " + e.getMessage());
            System.out.flush();
            System.exit(3);
            return;
        }
        long n = s.senderSequence().next();
        if (args[0].equals("try")) {
            System.out.println("loaded " + n);
            s.close();
            return;
        }
        System.out.println("held " + n);
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
            while (in.readLine() != null) {
                // hold until the parent closes our standard input
            }
        }
        s.close();
        System.out.println("closed");
    }
}
