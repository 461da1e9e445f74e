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
import org.vdmount.formats.NestedDisk;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.ImageFiles;
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
            "Hashes the whole virtual disk (the bytes a VM or 'vdmount cat' sees, not the image file), with one or more algorithms in a single pass (each on a thread of its own). The result equals the hash of 'qemu-img convert -O raw' output, so it can be checked against an acquisition record. The image is opened read-only. A progress line is shown on stderr when it is a terminal.",
            "",
            "Evidence that records the hashes computed when it was acquired (an E01's MD5 and SHA-1) is checked against them: each line then ends in '(matches acquisition)' or '(MISMATCH: acquisition recorded ...)', and the exit status is 1 on a mismatch. Without --hash, the recorded algorithms are the ones computed. When the evidence holds another image (a VMDK acquired as a file into an E01), the evidence's media is what is hashed. Every chunk's own checksum is checked on the way: a damaged chunk is an error naming its offset (exit status 1)."},
        footer = {"", "Examples:",
            "  vdmount verify evidence.vmdk",
            "  vdmount verify case14.E01",
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

    @Mixin
    AuditOptions audit;

    /** Verifies, and records the verification (or its failure) in the audit trail. */
    @Override
    public Integer call() throws IOException, NoSuchAlgorithmException {
        AuditTrail trail = audit.trail();
        trail.checkWritable();
        AuditEntry entry = AuditEntry.of("verify");
        int status;
        try {
            status = verify(entry);
        } catch (IOException | RuntimeException e) {
            try {
                trail.append(entry.put("error", VdmountCommand.describe(e)));
            } catch (RuntimeException lost) {
                e.addSuppressed(lost);
            }
            throw e;
        }
        trail.append(entry);
        return status;
    }

    private int verify(AuditEntry entry) throws IOException, NoSuchAlgorithmException {
        long size;
        Map<Algorithm, MessageDigest> digests = new LinkedHashMap<>();
        Map<Algorithm, String> recorded;
        try (VirtualDisk opened = image.openReadOnly()) {
            // An image found inside evidence: the evidence's media is what its acquisition hashed.
            VirtualDisk disk = opened instanceof NestedDisk nested ? nested.container() : opened;
            entry.put("images", ImageFiles.of(opened));
            recorded = recorded(disk);
            Set<Algorithm> chosen = new LinkedHashSet<>(algorithms.isEmpty()
                    ? (recorded.isEmpty() ? List.of(Algorithm.sha256) : recorded.keySet()) : algorithms);
            for (Algorithm a : chosen) {
                digests.put(a, MessageDigest.getInstance(a.javaName));
            }
            try (Progress progress = Progress.onTerminal("hashing", disk.size());
                    ParallelDigests hashing = new ParallelDigests(List.copyOf(digests.values()))) {
                size = disk.size();
                OrderedReader.forDisk(disk).read(0, size, chunk -> {
                    hashing.accept(chunk);
                    progress.advance(chunk.length());
                });
            }
        }
        Map<String, Object> hashes = new LinkedHashMap<>();
        Map<String, Object> acquisition = new LinkedHashMap<>();
        boolean mismatch = false;
        for (Map.Entry<Algorithm, MessageDigest> e : digests.entrySet()) {
            String hex = HexFormat.of().formatHex(e.getValue().digest());
            hashes.put(e.getKey().name(), hex);
            String wanted = recorded.get(e.getKey());
            if (wanted != null) {
                boolean matches = wanted.equalsIgnoreCase(hex);
                mismatch |= !matches;
                acquisition.put(e.getKey().name(), Map.of("recorded", wanted, "matches", matches));
            }
        }
        entry.put("virtual-size", size).put("hashes", hashes)
                .put("acquisition", recorded.isEmpty() ? null : acquisition)
                .put("result", mismatch ? "mismatch" : acquisition.isEmpty() ? "hashed" : "matches acquisition");
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("image", image.image().toString());
            report.put("virtual-size", size);
            report.put("hashes", hashes);
            if (!recorded.isEmpty()) {
                report.put("acquisition", acquisition);
                report.put("matches-acquisition", !mismatch && !acquisition.isEmpty());
            }
            System.out.println(Json.write(report));
        } else {
            hashes.forEach((a, hex) -> {
                String wanted = recorded.get(Algorithm.valueOf(a));
                String verdict = wanted == null ? "" : wanted.equalsIgnoreCase((String) hex)
                        ? " (matches acquisition)" : " (MISMATCH: acquisition recorded " + wanted + ")";
                System.out.printf("%s (%s) = %s%s%n", a.toUpperCase(Locale.ROOT), image.image(), hex, verdict);
            });
        }
        return mismatch ? 1 : 0;
    }

    /**
     * The hashes the image says were computed when it was acquired ({@code acquisition-md5} and
     * the like in its info), in the disk's own layer or the evidence layer under it.
     */
    private static Map<Algorithm, String> recorded(VirtualDisk disk) {
        Map<Algorithm, String> out = new LinkedHashMap<>();
        for (VirtualDisk layer = disk; layer != null; layer = layer.backing().orElse(null)) {
            Map<String, Object> details = layer.info().details();
            for (Algorithm a : Algorithm.values()) {
                Object v = details.get("acquisition-" + a.name());
                if (v != null && !out.containsKey(a) && layer.size() == disk.size()) {
                    out.put(a, v.toString());
                }
            }
        }
        return out;
    }

}
