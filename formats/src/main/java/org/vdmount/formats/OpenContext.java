package org.vdmount.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.vdmount.formats.io.FileStorage;
import org.vdmount.formats.io.ImageLock;

/**
 * The state of one open of an image chain: the options of the top image, the files already in the
 * chain (so that a loop is an error at open time, not a hang at read time) and warnings.
 */
public final class OpenContext {
    /**
     * The backing format vdmount writes into a qcow2 overlay whose backing file qemu cannot read
     * as vdmount does (E01, split raw, OVA, an image inside evidence): qemu refuses an unknown
     * driver instead of misreading the file as raw; vdmount recognises the file by its content.
     */
    public static final String PROBED_BACKING_FORMAT = "vdmount";

    /** Deeper chains than this are refused: no real VM has them, a hostile image might. */
    public static final int MAX_CHAIN_DEPTH = 1000;

    private final OpenOptions options;
    private final List<Path> chain;
    private final List<String> names;
    private final Consumer<String> warnings;
    /** For the top image only: what stands for its backing file instead of opening it by name. */
    private final BackingSubstitute substitute;
    /** The files this open has locked (their file keys), shared by the whole chain. */
    private final Set<Object> locked;
    /** What each file opened for writing passes through: nothing, but for tests that record writes. */
    private final WrittenFiles written;

    private OpenContext(OpenOptions options, List<Path> chain, List<String> names, Consumer<String> warnings,
            BackingSubstitute substitute, Set<Object> locked, WrittenFiles written) {
        this.options = options;
        this.chain = chain;
        this.names = names;
        this.warnings = warnings;
        this.substitute = substitute;
        this.locked = locked;
        this.written = written;
    }

    static OpenContext top(OpenOptions options, Path file, String name, Consumer<String> warnings) {
        return top(options, file, name, warnings, null);
    }

    static OpenContext top(OpenOptions options, Path file, String name, Consumer<String> warnings,
            BackingSubstitute substitute) {
        return top(options, file, name, warnings, substitute, storage -> storage);
    }

    static OpenContext top(OpenOptions options, Path file, String name, Consumer<String> warnings,
            BackingSubstitute substitute, WrittenFiles written) {
        List<Path> chain = new ArrayList<>();
        List<String> names = new ArrayList<>();
        chain.add(realPath(file));
        names.add(name);
        return new OpenContext(options, chain, names, warnings, substitute, new HashSet<>(), written);
    }

    /**
     * The top image's backing file, already open ({@code disk}, the file at {@code path}), or to be
     * left unopened ({@code disk} null: the top layer alone, its unallocated parts holes). Once the
     * format has taken the disk it owns it, and closes it with itself or when its open fails.
     */
    static final class BackingSubstitute {
        private final Path path;
        private final VirtualDisk disk;
        private boolean taken;

        BackingSubstitute(Path path, VirtualDisk disk) {
            this.path = path;
            this.disk = disk;
        }

        boolean taken() {
            return taken;
        }
    }

    /** Options for the image being opened: the snapshot and disk choices apply to the top only. */
    public OpenOptions options() {
        return options;
    }

    /** Whether the image being opened is the top of its chain. */
    public boolean isTop() {
        return chain.size() == 1;
    }

    /** Reports something the user should know that does not stop reading. */
    public void warn(String message) {
        warnings.accept(message);
    }

    /**
     * Opens a file of the image (the image itself, a backing file, an extent, an external data
     * file) and locks it as qemu locks the files of an image it reads or writes (see
     * {@link ImageLock}), unless the options force sharing. The lock lasts as long as the storage.
     * A file this open has locked already (a VMDK that is its own extent) is not locked again:
     * the second lock would meet the first, as another process's would.
     *
     * <p>Files of a set only vdmount reads (EWF segments, split raw files after the first) are
     * opened without this: the first file, the image the user named, stands for the set. No
     * other tool writes such a set through qemu's locks, and a lock is a descriptor per file,
     * which hundreds of segments would spend for nothing. VMDK extents are each locked, as qemu
     * locks them (a qemu writing a flat extent as raw locks only that file), within
     * {@link ImageLock}'s descriptor budget.
     */
    public Storage openFile(Path path, String name, boolean writable) throws IOException {
        FileStorage file = FileStorage.open(path, name, writable);
        try {
            if (!options.forceShare() && locked.add(fileKey(path))) {
                file.holding(ImageLock.take(path, name, writable ? ImageLock.Use.WRITE : ImageLock.Use.READ, warnings));
            }
            return writable ? written.wrap(file) : file;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * What the files an open writes pass through. In use, nothing: the file itself. Tests put a
     * recorder there, to rebuild what a power cut at any moment would leave of the files.
     */
    @FunctionalInterface
    interface WrittenFiles {
        Storage wrap(Storage file) throws IOException;
    }

    /** What tells two names of one file apart from two files (device and inode). */
    private static Object fileKey(Path path) {
        try {
            Object key = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            return key != null ? key : realPath(path);
        } catch (IOException e) {
            return realPath(path);
        }
    }

    /** Resolves a file name written inside {@code from} (a backing or extent name) to a path. */
    public Path resolve(Storage from, String name) throws ImageException {
        Path named;
        try {
            named = Path.of(name);
        } catch (InvalidPathException e) {
            throw new ImageException(from.name(), "names an impossible file '" + name + "'");
        }
        if (named.isAbsolute()) {
            return named;
        }
        Path dir = directoryOf(from);
        return dir == null ? named : dir.resolve(named);
    }

    /**
     * Finds the file {@code file} describes (an extent, a segment, an external data file): the first
     * candidate that exists. None existing is an error that names every path tried.
     */
    public Path find(Storage from, RelatedFile file) throws ImageException {
        Map<Path, String> paths = file.paths(directoryOf(from));
        for (Path path : paths.keySet()) {
            if (Files.isRegularFile(path) || Files.exists(path) && !Files.isDirectory(path)) {
                return path;
            }
        }
        throw notFound(from, file, paths);
    }

    /**
     * Opens the backing file named {@code name} inside {@code from}, read-only, as qemu resolves it.
     * {@code format} is the format the image declares (null to probe).
     */
    public VirtualDisk openBacking(Storage from, String name, String format) throws IOException {
        if (isTop() && substitute != null) {
            return substitute(from, name);
        }
        String declared = PROBED_BACKING_FORMAT.equals(format) ? null : format;
        return open(from, RelatedFile.of("backing file", name).exact(name, null).format(declared));
    }

    /**
     * Opens the disk {@code file} describes (a backing file, a parent disk), read-only: the first
     * candidate that exists and passes the identity check. A file already in this chain is a loop,
     * an error; so is a candidate that cannot be opened. When no candidate will do, the message
     * names every path tried, or every candidate that is not the right disk and why.
     */
    public VirtualDisk open(Storage from, RelatedFile file) throws IOException {
        Map<Path, String> paths = file.paths(directoryOf(from));
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<Path, String> candidate : paths.entrySet()) {
            Path path = candidate.getKey();
            if (!Files.exists(path)) {
                continue;
            }
            if (file.peek() != null && !mayBe(file.peek(), path)) {
                candidate.setValue(candidate.getValue() + " (another disk)");
                continue;
            }
            VirtualDisk disk = openInChain(from, path, file.format());
            String mismatch = file.identity() == null ? null : file.identity().mismatch(disk);
            if (mismatch == null) {
                return disk;
            }
            disk.close();
            wrong.add(path + " " + mismatch);
        }
        if (!wrong.isEmpty()) {
            throw new ImageException(from.name(), file.role() + " '" + file.name() + "' not found: "
                    + String.join("; ", wrong));
        }
        throw notFound(from, file, paths);
    }

    /** The substitute for the backing file {@code name}, which must be the file it stands for; null for none. */
    private VirtualDisk substitute(Storage from, String name) throws ImageException {
        if (substitute.disk == null) {
            return null;
        }
        Path named = resolve(from, name);
        if (!realPath(named).equals(realPath(substitute.path))) {
            throw new ImageException(from.name(), "its backing file is " + named + ", not " + substitute.path);
        }
        substitute.taken = true;
        return substitute.disk;
    }

    private static boolean mayBe(RelatedFile.Peek peek, Path path) {
        try {
            return peek.mayBe(path);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private VirtualDisk openInChain(Storage from, Path path, String format) throws IOException {
        String shown = path.toString();
        Path real = realPath(path);
        int seen = chain.indexOf(real);
        if (seen >= 0) {
            List<String> loop = new ArrayList<>(names.subList(seen, names.size()));
            loop.add(shown);
            throw new ImageException(from.name(), "backing chain loops: " + String.join(" -> ", loop));
        }
        if (chain.size() >= MAX_CHAIN_DEPTH) {
            throw new ImageException(from.name(), "backing chain is deeper than " + MAX_CHAIN_DEPTH + " images");
        }
        List<Path> longer = new ArrayList<>(chain);
        List<String> longerNames = new ArrayList<>(names);
        longer.add(real);
        longerNames.add(shown);
        OpenContext child = new OpenContext(OpenOptions.readOnly().withForceShare(options.forceShare()),
                Collections.unmodifiableList(longer), Collections.unmodifiableList(longerNames), warnings, null,
                locked, written);
        return Images.open(path, shown, format, child);
    }

    private static ImageException notFound(Storage from, RelatedFile file, Map<Path, String> paths) {
        List<String> tried = new ArrayList<>();
        paths.forEach((path, label) -> tried.add(path + label));
        return new ImageException(from.name(), file.role() + " '" + file.name() + "' not found ("
                + (tried.isEmpty() ? "no name to look for" : "looked for " + String.join(", ", tried)) + ")"
                + (file.wantedBy() == null ? "" : ", " + file.wantedBy()));
    }

    private static Path directoryOf(Storage from) {
        return from.path().map(p -> p.toAbsolutePath().getParent()).orElse(null);
    }

    /** The files of the chain so far, top first, as shown to the user. */
    public List<String> chainNames() {
        return Collections.unmodifiableList(names);
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path.toAbsolutePath().normalize();
        }
    }
}
