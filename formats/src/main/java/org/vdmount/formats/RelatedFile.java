package org.vdmount.formats;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A file an image needs besides itself (its backing file or parent disk, an extent, a segment, an
 * external data file) as the image names it: one or more candidate names, each with where the
 * image wrote it, and for parents the identity the image records. {@link OpenContext} does the
 * looking, once for every format: it tries the candidates in order, checks the identity, and names
 * every path it tried when none will do.
 */
public final class RelatedFile {

    /** Says why {@code candidate} is not the disk the image was made on, or null when it is. */
    @FunctionalInterface
    public interface IdentityCheck {
        String mismatch(VirtualDisk candidate);
    }

    /**
     * A cheap look at a candidate file before it is opened (its header's UUID, say): false skips
     * it. For searches among many files, where opening each, with its own chain, would cost much
     * and could meet the image itself.
     */
    @FunctionalInterface
    public interface Peek {
        boolean mayBe(Path candidate) throws IOException;
    }

    private record Candidate(String name, String source, boolean foreign) {
    }

    private final String role;
    private final String name;
    private final List<Candidate> candidates = new ArrayList<>();
    private String wantedBy;
    private String format;
    private IdentityCheck identity;
    private Peek peek;

    private RelatedFile(String role, String name) {
        this.role = role;
        this.name = name;
    }

    /**
     * A file in the role {@code role} ("backing file", "parent disk", "extent file"...) that messages
     * call {@code name}. Candidates are added with {@link #exact} and {@link #written}.
     */
    public static RelatedFile of(String role, String name) {
        return new RelatedFile(role, name);
    }

    /**
     * A candidate name resolved as qemu resolves backing names: absolute, or relative to the
     * image's directory. {@code source} (may be null) says where the image wrote it.
     */
    public RelatedFile exact(String candidate, String source) {
        candidates.add(new Candidate(candidate, source, false));
        return this;
    }

    /**
     * A candidate name written by the machine that made the image, maybe another one (a Windows
     * path, a Mac URL): tried as written, then by its file name alone next to the image, as an
     * evidence copy keeps a VM's directory but not the host's paths.
     */
    public RelatedFile written(String candidate, String source) {
        candidates.add(new Candidate(candidate, source, true));
        return this;
    }

    /** Ends "not found" messages: "wanted by line 10: ...", "named by parentFileNameHint=...". */
    public RelatedFile wantedBy(String text) {
        this.wantedBy = text;
        return this;
    }

    /** The format the image declares for it (null: probe its content). */
    public RelatedFile format(String formatName) {
        this.format = formatName;
        return this;
    }

    /** How to tell the right disk from another file of the same name. */
    public RelatedFile identity(IdentityCheck check) {
        this.identity = check;
        return this;
    }

    /** A look at each candidate before it is opened; candidates it turns down are skipped. */
    public RelatedFile peek(Peek look) {
        this.peek = look;
        return this;
    }

    public String role() {
        return role;
    }

    public String name() {
        return name;
    }

    String format() {
        return format;
    }

    IdentityCheck identity() {
        return identity;
    }

    Peek peek() {
        return peek;
    }

    String wantedBy() {
        return wantedBy;
    }

    boolean hasCandidates() {
        return !candidates.isEmpty();
    }

    /** Every path to try, in order, each with what to call it in a message. */
    Map<Path, String> paths(Path directory) {
        Map<Path, String> out = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            String label = c.source == null ? "" : " (" + c.source + ")";
            if (!c.foreign) {
                add(out, directory, c.name, label);
                continue;
            }
            String local = localForm(c.name);
            if (local != null) {
                add(out, directory, local, label);
            }
            String base = fileName(c.name);
            if (!base.isEmpty()) {
                add(out, directory, base, c.source == null ? " (its file name, next to the image)"
                        : " (file name of " + c.source + ", next to the image)");
            }
        }
        return out;
    }

    private static void add(Map<Path, String> out, Path directory, String name, String label) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return;
        }
        try {
            Path named = Path.of(name);
            Path path = named.isAbsolute() || directory == null ? named : directory.resolve(named);
            out.putIfAbsent(path.normalize(), label);
        } catch (InvalidPathException e) {
            // A name no Linux file can have is simply not found.
        }
    }

    /**
     * The name as a path on this machine, or null when it cannot be one: a Windows path with a drive
     * letter or a volume GUID, a URL of another host. Relative Windows paths ("..\base.vhd",
     * ".\disk.avhdx") become relative paths here.
     */
    static String localForm(String name) {
        String n = name;
        if (n.startsWith("file://")) {
            n = n.substring("file://".length());
            if (n.startsWith("localhost/")) {
                n = n.substring("localhost".length());
            }
            return n.startsWith("/") ? n : null;
        }
        if (n.length() >= 2 && n.charAt(1) == ':' || n.startsWith("\\\\")) {
            return null;
        }
        return n.indexOf('\\') >= 0 && n.indexOf('/') < 0 ? n.replace('\\', '/') : n;
    }

    /** The last component of a Windows, Mac or Linux path. */
    static String fileName(String name) {
        int cut = Math.max(name.lastIndexOf('/'), Math.max(name.lastIndexOf('\\'), name.lastIndexOf(':')));
        return name.substring(cut + 1);
    }
}
