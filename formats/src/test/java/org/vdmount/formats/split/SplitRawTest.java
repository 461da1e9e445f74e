package org.vdmount.formats.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.formats.testing.TestImages;

/** Split raw images as split(1) names them, read as one disk from the first file. */
class SplitRawTest {
    private static final long SIZE = (5L << 20) + 512;

    @TempDir
    Path dir;

    private Path disk() throws Exception {
        Path raw = dir.resolve("whole.raw");
        TestImages.writePattern(raw, 0, (int) SIZE, 5);
        return raw;
    }

    /** split -b 1M with the given suffix options, in a directory of its own. */
    private Path split(Path raw, String prefix, String... options) throws Exception {
        String[] cmd = new String[4 + options.length];
        cmd[0] = "split";
        cmd[1] = "-b";
        cmd[2] = "1M";
        System.arraycopy(options, 0, cmd, 3, options.length);
        cmd[cmd.length - 1] = raw.toString();
        String[] full = java.util.Arrays.copyOf(cmd, cmd.length + 1);
        full[full.length - 1] = prefix;
        TestImages.run(dir, full);
        return dir;
    }

    @ParameterizedTest
    @CsvSource({
        "'evidence.', '-d,-a,3,--numeric-suffixes=1', evidence.001",
        "'evidence.', '-d,-a,3', evidence.000",
        "'evidence.raw.', '-d,-a,3,--numeric-suffixes=1', evidence.raw.001",
        "'evidence.', '', evidence.aa",
    })
    void readsAsOneDiskFromItsFirstFile(String prefix, String options, String first) throws Exception {
        Path raw = disk();
        split(raw, prefix, options.isEmpty() ? new String[0] : options.split(","));
        try (VirtualDisk disk = Images.open(dir.resolve(first))) {
            TestImages.assertSameBytes(raw, disk);
            assertEquals(6, disk.info().files().size());
            assertEquals("split", disk.info().subformat());
        }
    }

    @Test
    void aMissingOrShortFileIsOneLine() throws Exception {
        Path raw = disk();
        split(raw, "evidence.", "-d", "-a", "3", "--numeric-suffixes=1");
        try (FileChannel ch = FileChannel.open(dir.resolve("evidence.003"), StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        ImageException e = assertThrows(ImageException.class, () -> Images.open(dir.resolve("evidence.001")));
        assertTrue(e.getMessage().contains("evidence.003: split raw image: this file is 1000 bytes"), e.getMessage());
        Files.delete(dir.resolve("evidence.003"));
        e = assertThrows(ImageException.class, () -> Images.open(dir.resolve("evidence.001")));
        assertTrue(e.getMessage().contains("evidence.003 is missing, but"), e.getMessage());
        e = assertThrows(ImageException.class,
                () -> Images.open(dir.resolve("evidence.001"), new OpenOptions(null, 0, true), w -> { }));
        assertTrue(e.getMessage().contains("--rw is refused"), e.getMessage());
    }

    @Test
    void aLoneNumberedFileIsPlainRaw() throws Exception {
        Path raw = disk();
        Path lone = Files.copy(raw, dir.resolve("backup.001"));
        try (VirtualDisk disk = Images.open(lone)) {
            assertEquals(SIZE, disk.size());
            assertEquals(null, disk.info().subformat());
        }
    }
}
