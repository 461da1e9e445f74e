package org.vdmount.formats.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.junit.jupiter.api.Assumptions;

/**
 * The real disk images of the shared corpus (../shared/corpus/real beside the repository; its
 * SOURCES.tsv names each file's origin). Tests that use it run wherever it is; on a user's clone
 * without it they are skipped, but never under CI (CI=true), which has it: there a missing corpus
 * fails the test. The files are never copied into the repository: each test unpacks the ones it
 * reads into its own temporary directory.
 */
public final class Corpus {
    private Corpus() {
    }

    /** The corpus directory; skips the test (fails it under CI) when there is none. */
    public static Path dir() {
        Path dir = find();
        if (dir == null) {
            if (System.getenv("CI") != null) {
                fail("the shared corpus of real images is missing (looked for ../shared/corpus/real and "
                        + "/work/shared/corpus/real); CI must run these tests");
            }
            Assumptions.abort("no shared corpus of real images here");
        }
        return dir;
    }

    private static Path find() {
        String property = System.getProperty("vdmount.corpus");
        if (property != null && Files.isDirectory(Path.of(property))) {
            return Path.of(property);
        }
        String testdata = System.getProperty("vdmount.testdata");
        if (testdata != null) {
            Path beside = Path.of(testdata).toAbsolutePath().getParent().resolveSibling("shared/corpus/real");
            if (Files.isDirectory(beside)) {
                return beside;
            }
        }
        Path fixed = Path.of("/work/shared/corpus/real");
        return Files.isDirectory(fixed) ? fixed : null;
    }

    /**
     * Unpacks corpus file {@code name} ("qemu/parallels-v1.bz2", "dissect/fixed.vhd.gz") into
     * {@code work} and returns the unpacked file, named without the compression suffix.
     */
    public static Path unpack(String name, Path work) throws IOException {
        Path source = dir().resolve(name);
        if (!Files.isRegularFile(source)) {
            fail("corpus file " + source + " is missing");
        }
        String file = source.getFileName().toString();
        Path target;
        if (file.endsWith(".gz")) {
            target = work.resolve(file.substring(0, file.length() - 3));
            try (InputStream in = new GZIPInputStream(Files.newInputStream(source), 1 << 16)) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } else if (file.endsWith(".bz2")) {
            target = work.resolve(file.substring(0, file.length() - 4));
            try (InputStream in = new BZip2CompressorInputStream(Files.newInputStream(source))) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } else {
            target = work.resolve(file);
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().setWritable(true);
        return target;
    }
}
