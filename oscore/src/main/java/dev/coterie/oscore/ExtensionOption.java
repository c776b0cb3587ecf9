package dev.coterie.oscore;

/**
 * A CoAP option that has no IANA number yet (digest Q-01): its name, the number in use, its
 * OSCORE class and its format bounds.
 */
public record ExtensionOption(String name, int number, OptionClass oscoreClass, Format format, int minLength,
        int maxLength, boolean repeatable) {

    public enum Format { UINT, OPAQUE }

    public ExtensionOption {
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException(name + ": option number out of range: " + number);
        }
    }

    public ExtensionOption withNumber(int newNumber) {
        return new ExtensionOption(name, newNumber, oscoreClass, format, minLength, maxLength, repeatable);
    }

    public boolean critical() {
        return (number & 1) != 0;
    }

    public boolean unsafe() {
        return (number & 2) != 0;
    }

    public boolean noCacheKey() {
        return (number & 0x1e) == 0x1c;
    }
}
