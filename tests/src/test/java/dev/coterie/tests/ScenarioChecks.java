package dev.coterie.tests;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The named checks of a scenario that runs in its own process (a private network namespace,
 * {@link PrivateNetwork}): each prints "CHECK ok" or "CHECK FAIL", and {@link #exit} ends the
 * process with "SCENARIO OK" (0), "SCENARIO FAILED: names" (1) or, on an exception, 2. The
 * test class reads them with {@link PrivateNetwork.Result#assertChecks}.
 */
final class ScenarioChecks {
    private final List<String> failures = new CopyOnWriteArrayList<>();

    interface Body {
        void run() throws Exception;
    }

    void check(boolean ok, String name, Object detail) {
        if (ok) {
            System.out.println("CHECK ok   " + name);
        } else {
            System.out.println("CHECK FAIL " + name + ": " + detail);
            failures.add(name);
        }
    }

    /** Runs {@code body} and exits the process with the scenario's outcome. */
    void exit(Body body) {
        try {
            body.run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.out.println(failures.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED: " + failures);
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
