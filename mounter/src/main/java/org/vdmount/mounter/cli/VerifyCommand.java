package org.vdmount.mounter.cli;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.read.OrderedReader;
import org.vdmount.mounter.read.ParallelDigests;
import org.vdmount.mounter.util.Json;
import org.vdmount.mounter.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vdmount verify}: hashes of the virtual disk, as forensic examiners record them. */
@Command(name = "verify",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        description = {
            "Hash the virtual disk (MD5, SHA-1, SHA-256, SHA-512) for evidence records.",
            "",
            "Hashes the whole virtual disk (the bytes a VM or 'vdmount cat' sees, not the image file), with one or more algorithms in a single pass (each on a thread of its own). The result equals the hash of 'qemu-img convert -O raw' output, so it can be checked against an acquisition record. The image is opened read-only. A progress line is shown on stderr when it is a terminal."},
        footer = {"", "Examples:",
            "  vdmount verify evidence.vmdk",
            "  vdmount verify --hash md5 --hash sha1 --json disk.qcow2"})
public final class VerifyCommand implements Callable<Integer> {

    /** The algorithms offered, by the names users type. */
    enum Algorithm {
        md5("MD5"), sha1("SHA-1"), sha256("SHA-256"), sha512("SHA-512");

        final String javaName;

        Algorithm(String javaName) {
            this.javaName = javaName;
        }
    }

    @Mixin
    ImageOptions image;

    @Option(names = "--hash", paramLabel = "ALG",
            description = "Algorithm: ${COMPLETION-CANDIDATES}; repeat for several (default: sha256).")
    List<Algorithm> algorithms = new ArrayList<>();

    @Option(names = "--json", description = "Print the hashes as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException, NoSuchAlgorithmException {
        Set<Algorithm> chosen = new LinkedHashSet<>(algorithms.isEmpty() ? List.of(Algorithm.sha256) : algorithms);
        Map<Algorithm, MessageDigest> digests = new LinkedHashMap<>();
        for (Algorithm a : chosen) {
            digests.put(a, MessageDigest.getInstance(a.javaName));
        }
        long size;
        try (VirtualDisk disk = image.openReadOnly(); Progress progress = Progress.onTerminal("hashing", disk.size());
                ParallelDigests hashing = new ParallelDigests(List.copyOf(digests.values()))) {
            size = disk.size();
            OrderedReader.forDisk(disk).read(0, size, chunk -> {
                hashing.accept(chunk);
                progress.advance(chunk.length());
            });
        }
        Map<String, Object> hashes = new LinkedHashMap<>();
        digests.forEach((a, d) -> hashes.put(a.name(), HexFormat.of().formatHex(d.digest())));
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("image", image.image().toString());
            report.put("virtual-size", size);
            report.put("hashes", hashes);
            System.out.println(Json.write(report));
        } else {
            hashes.forEach((a, hex) -> System.out.printf("%s (%s) = %s%n", a.toUpperCase(Locale.ROOT), image.image(), hex));
        }
        return 0;
    }

}
