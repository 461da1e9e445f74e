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

    /** human() rounds without printf (start-up time): it must print what printf's %.0f / %.1f print. */
    @Test
    void roundsAsPrintfDoes() {
        java.util.Random random = new java.util.Random(17);
        for (int i = 0; i < 200_000; i++) {
            long bytes = i < 100_000 ? 1024 + random.nextInt(1 << 24) : random.nextLong() >>> random.nextInt(63);
            if (bytes < 1024) {
                continue;
            }
            assertEquals(printf(bytes), Sizes.human(bytes), "bytes " + bytes);
        }
        for (long unit = 1024; unit > 0 && unit <= (1L << 60); unit <<= 10) {
            for (long bytes : new long[] {unit, unit * 100 - 1, unit * 100, unit * 1023 + unit / 2, unit * 99 + unit * 95 / 100}) {
                if (bytes > 0) {
                    assertEquals(printf(bytes), Sizes.human(bytes), "bytes " + bytes);
                }
            }
        }
    }

    private static String printf(long bytes) {
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < 5) {
            value /= 1024;
            unit++;
        }
        return String.format(java.util.Locale.ROOT, value >= 100 ? "%.0f %siB" : "%.1f %siB", value, "KMGTPE".charAt(unit));
    }

    @Test
    void jsonEscapesAndNests() {
        String json = Json.write(Map.of("a\"b", List.of(1, true, "x\ny")));
        assertEquals("{\n  \"a\\\"b\": [\n    1,\n    true,\n    \"x\\ny\"\n  ]\n}", json);
    }
}
