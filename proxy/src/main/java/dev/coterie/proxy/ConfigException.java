package dev.coterie.proxy;

/**
 * A mistake in the proxy configuration: the file, the field (a dotted path such as
 * {@code routes[1].origin}) and why. The message never carries the value of a field that could
 * hold key material; the configuration file names context files and never holds keys itself.
 */
public final class ConfigException extends Exception {
    private final String file;
    private final String field;
    private final String why;

    public ConfigException(String file, String field, String why) {
        super(file + ": " + (field == null || field.isEmpty() ? "" : "field '" + field + "': ") + why);
        this.file = file;
        this.field = field;
        this.why = why;
    }

    public String file() { return file; }
    public String field() { return field; }
    public String why() { return why; }
}
