package org.vdmount.mounter.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The everyday commands in their plain forms, run without picocli: {@code --version},
 * {@code info [--json] IMAGE}, {@code list [--json]}, {@code cat IMAGE [-o FILE]} and
 * {@code verify IMAGE [--hash ALG]... [--json]}. Building a command's model reads its annotations
 * by reflection, and the JVM makes a proxy class for each annotation type the first time: on a
 * start from the ahead-of-time cache that was half of {@code vdmount info}'s 0.14 s, and 65 ms of
 * every {@code cat}. Anything else (help, other options, mistakes) returns null and goes to
 * picocli, which stays the one definition of the commands: this class only fills the fields
 * picocli would fill, and reports failures through the same {@link VdmountCommand#report}. A test
 * runs every form both ways and compares the output.
 */
final class QuickCommands {
    private QuickCommands() {
    }

    /** A plain command line: the command, one operand, flags, and options with a value. */
    private static final class Parsed {
        String operand;
        final Set<String> flags = new HashSet<>();
        final List<String[]> values = new ArrayList<>();

        /** Parses {@code args} after the command, or returns null if anything is not plain. */
        static Parsed of(String[] args, Set<String> flagNames, Set<String> valueNames) {
            Parsed p = new Parsed();
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (flagNames.contains(a) && p.flags.add(a)) {
                    continue;
                }
                if (valueNames.contains(a) && i + 1 < args.length && plain(args[i + 1])) {
                    p.values.add(new String[] {a, args[++i]});
                } else if (p.operand == null && plain(a)) {
                    p.operand = a;
                } else {
                    return null;
                }
            }
            return p;
        }

        private static boolean plain(String word) {
            return !word.isEmpty() && !word.startsWith("-");
        }
    }

    /** The exit status, or null when picocli has to run {@code args}. */
    static Integer run(String... args) {
        if (args.length == 1 && ("--version".equals(args[0]) || "-V".equals(args[0]))) {
            for (String line : new Version().getVersion()) {
                System.out.println(line);
            }
            System.out.flush();
            return 0;
        }
        if (args.length == 0) {
            return null;
        }
        Callable<Integer> command = switch (args[0]) {
            case "info" -> info(Parsed.of(args, Set.of("--json"), Set.of()));
            case "list" -> list(Parsed.of(args, Set.of("--json"), Set.of()));
            case "cat" -> cat(Parsed.of(args, Set.of(), Set.of("-o", "--output")));
            case "verify" -> verify(Parsed.of(args, Set.of("--json"), Set.of("--hash")));
            default -> null;
        };
        return command == null ? null : call(command, "vdmount " + args[0]);
    }

    private static ImageOptions image(String operand) {
        ImageOptions image = new ImageOptions();
        image.image = Path.of(operand);
        image.source = new SourceOptions(); // no --snapshot, no --disk: the quick forms take neither
        return image;
    }

    private static Callable<Integer> info(Parsed p) {
        if (p == null || p.operand == null) {
            return null;
        }
        InfoCommand info = new InfoCommand();
        info.image = image(p.operand);
        info.json = p.flags.contains("--json");
        return info;
    }

    private static Callable<Integer> list(Parsed p) {
        if (p == null || p.operand != null) {
            return null;
        }
        ListCommand list = new ListCommand();
        list.json = p.flags.contains("--json");
        return list;
    }

    private static Callable<Integer> cat(Parsed p) {
        if (p == null || p.operand == null || p.values.size() > 1) {
            return null;
        }
        CatCommand cat = new CatCommand();
        cat.image = image(p.operand);
        if (!p.values.isEmpty()) {
            cat.output = Path.of(p.values.get(0)[1]);
        }
        return cat;
    }

    private static Callable<Integer> verify(Parsed p) {
        if (p == null || p.operand == null) {
            return null;
        }
        VerifyCommand verify = new VerifyCommand();
        verify.image = image(p.operand);
        verify.json = p.flags.contains("--json");
        verify.audit = new AuditOptions(); // the default audit log: the quick form takes no audit options
        for (String[] option : p.values) {
            try {
                verify.algorithms.add(VerifyCommand.Algorithm.valueOf(option[1].toLowerCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                return null; // picocli says which names it takes
            }
        }
        return verify;
    }

    /** Standard error as picocli writes to it: in the terminal's encoding when it is one. */
    private static PrintWriter standardError() {
        String encoding = System.getProperty("sun.stderr.encoding");
        Charset charset = encoding != null && Charset.isSupported(encoding) ? Charset.forName(encoding)
                : Charset.defaultCharset();
        return new PrintWriter(new OutputStreamWriter(System.err, charset), true);
    }

    private static Integer call(Callable<Integer> command, String name) {
        try {
            return command.call();
        } catch (Exception e) {
            return VdmountCommand.report(e, standardError(), name);
        } finally {
            System.out.flush();
        }
    }
}
