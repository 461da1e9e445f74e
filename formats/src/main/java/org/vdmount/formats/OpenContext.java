package org.vdmount.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * The state of one open of an image chain: the options of the top image, the files already in the
 * chain (so that a loop is an error at open time, not a hang at read time) and warnings.
 */
public final class OpenContext {
    /** Deeper chains than this are refused: no real VM has them, a hostile image might. */
    public static final int MAX_CHAIN_DEPTH = 1000;

    private final OpenOptions options;
    private final List<Path> chain;
    private final List<String> names;
    private final Consumer<String> warnings;

    private OpenContext(OpenOptions options, List<Path> chain, List<String> names, Consumer<String> warnings) {
        this.options = options;
        this.chain = chain;
        this.names = names;
        this.warnings = warnings;
    }

    static OpenContext top(OpenOptions options, Path file, String name, Consumer<String> warnings) {
        List<Path> chain = new ArrayList<>();
        List<String> names = new ArrayList<>();
        chain.add(realPath(file));
        names.add(name);
        return new OpenContext(options, chain, names, warnings);
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
        Path dir = from.path().map(p -> p.toAbsolutePath().getParent()).orElse(Path.of(""));
        return dir == null ? named : dir.resolve(named);
    }

    /**
     * Opens the backing file named {@code name} inside {@code from}, read-only. {@code format} is the
     * format the parent declares (null to probe). A file already in this chain is a loop: an error.
     */
    public VirtualDisk openBacking(Storage from, String name, String format) throws IOException {
        Path path = resolve(from, name);
        String shown = path.toString();
        if (!Files.exists(path)) {
            throw new ImageException(from.name(), "backing file '" + name + "' not found (looked for " + shown + ")");
        }
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
        OpenContext child = new OpenContext(new OpenOptions(null, 0, false),
                Collections.unmodifiableList(longer), Collections.unmodifiableList(longerNames), warnings);
        return Images.open(path, shown, format, child);
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
