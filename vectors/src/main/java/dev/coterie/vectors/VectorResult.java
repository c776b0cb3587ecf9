package dev.coterie.vectors;

/** The outcome of one vector: PASS, or FAIL with the first field that differed. */
public record VectorResult(String file, String name, boolean passed, String field, String expected, String got) {

    static VectorResult pass(String file, String name) {
        return new VectorResult(file, name, true, null, null, null);
    }

    static VectorResult fail(String file, String name, String field, String expected, String got) {
        return new VectorResult(file, name, false, field, expected, got);
    }

    /** {@code PASS name} or {@code FAIL name: field, expected X, got Y}. */
    public String line() {
        return passed ? "PASS " + name : "FAIL " + name + ": " + field + ", expected " + expected + ", got " + got;
    }
}
