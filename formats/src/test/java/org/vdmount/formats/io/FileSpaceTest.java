package org.vdmount.formats.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FileSpace reads statx's size and blocks: checked against stat(1) on a sparse and a full file. */
class FileSpaceTest {
    @TempDir
    Path dir;

    @Test
    void agreesWithStat() throws Exception {
        Path sparse = dir.resolve("sparse");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(64L << 20);
            f.seek(32L << 20);
            f.write(new byte[1 << 20]); // zeros, but written: 1 MiB allocated in a 64 MiB file
        }
        Path full = dir.resolve("full");
        Files.write(full, new byte[3 << 20]);
        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, full);
        for (Path file : new Path[] {sparse, full, link}) {
            FileSpace.Usage usage = FileSpace.of(file);
            assertNotNull(usage, file.toString());
            String[] stat = stat(file);
            assertEquals(Long.parseLong(stat[0]), usage.size(), file + ": size");
            assertEquals(Long.parseLong(stat[1]) * Long.parseLong(stat[2]), usage.allocated(), file + ": allocated");
        }
        assertTrue(FileSpace.of(sparse).allocated() < (8L << 20), "the hole takes no space");
    }

    @Test
    void missingFileIsUnknown() {
        assertNull(FileSpace.of(dir.resolve("missing")));
    }

    private static String[] stat(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-L", "-c", "%s %b %B", "--", file.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertEquals(0, p.waitFor());
        return out.split(" ");
    }
}
