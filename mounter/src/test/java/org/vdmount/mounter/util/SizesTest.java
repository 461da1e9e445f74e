package org.vdmount.mounter.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void parsesSuffixes() {
        assertEquals(512, Sizes.parse("512"));
        assertEquals(65536, Sizes.parse("64K"));
        assertEquals(65536, Sizes.parse("64KiB"));
        assertEquals(3L << 40, Sizes.parse("3T"));
        assertEquals(1L << 20, Sizes.parse("1m"));
        assertEquals(2L << 30, Sizes.parse("2GB"));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("12Q"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("99999999E"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(""));
    }

    @Test
    void printsForPeople() {
        assertEquals("512 B", Sizes.human(512));
        assertEquals("20.0 GiB", Sizes.human(20L << 30));
        assertEquals("512 MiB", Sizes.human(512L << 20));
        assertEquals("1.5 KiB", Sizes.human(1536));
    }

    @Test
    void jsonEscapesAndNests() {
        String json = Json.write(Map.of("a\"b", List.of(1, true, "x\ny")));
        assertEquals("{\n  \"a\\\"b\": [\n    1,\n    true,\n    \"x\\ny\"\n  ]\n}", json);
    }
}
