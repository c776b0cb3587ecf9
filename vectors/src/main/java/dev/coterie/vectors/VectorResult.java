package dev.coterie.vectors;

/** The outcome of one vector: PASS, or FAIL with the first field that differed. */
public record VectorResult(String file, String name, boolean passed, String field, String expected, String got,
        boolean skipped) {

    VectorResult(String file, String name, boolean passed, String field, String expected, String got) {
        this(file, name, passed, field, expected, got, false);
    }

    /** A vector of a capability that does not exist yet: reported, neither passed nor failed. */
    static VectorResult skip(String file, String name, String why) {
        return new VectorResult(file, name, false, why, null, null, true);
    }

    static VectorResult pass(String file, String name) {
        return new VectorResult(file, name, true, null, null, null);
    }

    static VectorResult fail(String file, String name, String field, String expected, String got) {
        return new VectorResult(file, name, false, field, expected, got);
    }

    /** Whether this is one of Coterie's own vectors rather than a published one. */
    public boolean own() {
        return VectorRunner.OWN_FILE.equals(file);
    }

    /** {@code PASS name}, {@code SKIP name: why} or {@code FAIL name: field, expected X, got Y}. */
    public String line() {
        if (skipped) {
            return "SKIP " + name + ": " + field;
        }
        return passed ? "PASS " + name : "FAIL " + name + ": " + field + ", expected " + expected + ", got " + got;
    }
}
