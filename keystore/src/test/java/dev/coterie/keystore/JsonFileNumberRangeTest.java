package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A number Jackson cannot represent (an exponent past int range) is refused as an
 * {@link IOException} naming the field, and its digits are not quoted: a Master Secret typed
 * without quotes is a number to JSON (ContextFileFuzzTest found Jackson's NumberFormatException,
 * which quotes them, escaping the parser).
 */
class JsonFileNumberRangeTest {
    private static final Path FILE = Path.of("context.json");

    @Test
    void aNumberOutOfRangeIsRefusedWithoutItsDigits() throws IOException {
        String secret = "20102030e05060708090";
        IOException e = assertThrows(IOException.class, () -> JsonFile.parse(FILE,
                ("{\"master_secret\": " + secret + "}").getBytes(StandardCharsets.UTF_8), "context file"));
        assertEquals("context.json: field 'master_secret' holds a number out of range", e.getMessage());
        assertFalse(e.getMessage().contains("2010"), "no digit of the value");
        // control: a number in range, and a float, parse
        JsonFile ok = JsonFile.parse(FILE, "{\"a\": 12, \"b\": 1.5e3}".getBytes(StandardCharsets.UTF_8), "context file");
        assertEquals(FILE, ok.file());
    }
}
