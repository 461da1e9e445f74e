package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.io.Libc;
import org.vdmount.mounter.audit.Invocation;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level command: dispatches to subcommands and turns every failure into one line. */
@Command(name = "vdmount",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Make virtual-machine disk images (raw, qcow2, VMDK) readable as disks: inspect them, read or hash their bytes, attach them as block devices.",
            "",
            "Images are opened read-only unless a command is told otherwise.",
            ""},
        commandListHeading = "%nCommands:%n",
        footer = {"",
            "Exit status: 0 on success, 1 when the image or the system refused (one line on stderr says which file and why), 2 for a mistake on the command line.",
            "",
            "Audit trail: attach, mount, detach, umount, verify, commit and serve each append one JSON line (time, user, command line, image files with size, mtime and a digest of their first and last MiB, devices, mode, and at the end of an attachment the bytes read and written) to /var/log/vdmount/audit.jsonl, or to $VDMOUNT_AUDIT_LOG or --audit-log FILE; --no-audit writes none. A line that cannot be written is a warning, or an error with --audit-required.",
            "",
            "Run 'vdmount COMMAND --help' for a command's options. Set VDMOUNT_DEBUG=1 to get stack traces of internal errors."})
public final class VdmountCommand implements Runnable {
    /** The commands, in the order the help lists them. */
    static final List<Class<?>> COMMANDS = List.of(
            AttachCommand.class,
            DetachCommand.class,
            ListCommand.class,
            MountCommand.class,
            UmountCommand.class,
            InfoCommand.class,
            CatCommand.class,
            VerifyCommand.class,
            CommitCommand.class,
            ServeCommand.class,
            CommandLine.HelpCommand.class);

    /**
     * Every name and alias of every command, as the commands' own annotations give them: read at
     * the first use, not when this class loads, since reading annotations costs the commands that
     * {@link QuickCommands} runs a good part of their start.
     */
    /** The commands that open images, and so lock them (native code): see {@link #opensImages}. */
    private static final Set<String> IMAGE_COMMANDS =
            Set.of("info", "cat", "verify", "attach", "mount", "serve", "commit");

    private static final class Names {
        static final Map<String, Class<?>> ALL = commandNames();
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** The whole command tree, as the help and the tests see it. */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command tree with only {@code command} below the top when it names one (other than
     * help), or every command otherwise. picocli builds a command's model by reflection when it is
     * added, and a short command should not pay for the other eight at every start.
     */
    static CommandLine commandLine(String command) {
        CommandLine cl = new CommandLine(new VdmountCommand());
        Class<?> wanted = "help".equals(command) ? null : Names.ALL.get(command);
        for (Class<?> each : COMMANDS) {
            if (wanted == null || wanted == each) {
                cl.addSubcommand(each); // with its name and aliases from its annotation
            }
        }
        cl.setExecutionExceptionHandler(VdmountCommand::handleFailure);
        cl.setParameterExceptionHandler(VdmountCommand::handleBadUsage);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    public static int run(String... args) {
        Invocation.arguments(List.of(args)); // as typed, for the audit trail
        if (opensImages(args)) {
            Libc.preloadInBackground(); // ready by the time the image is locked
        }
        Integer quick = QuickCommands.run(args);
        if (quick != null) {
            return quick;
        }
        String[] rewritten = ImplicitAttach.rewrite(args, Names.ALL.keySet());
        return commandLine(rewritten.length > 0 ? rewritten[0] : null).execute(rewritten);
    }

    /** Whether the command line asks for a command that opens images ({@code vdmount IMAGE} too). */
    private static boolean opensImages(String[] args) {
        if (args.length == 0 || args[0].startsWith("-")) {
            return false;
        }
        return IMAGE_COMMANDS.contains(args[0]) || !Names.ALL.containsKey(args[0]);
    }

    private static Map<String, Class<?>> commandNames() {
        Map<String, Class<?>> names = new HashMap<>();
        for (Class<?> command : COMMANDS) {
            Command annotation = command.getAnnotation(Command.class);
            names.put(annotation.name(), command);
            for (String alias : annotation.aliases()) {
                names.put(alias, command);
            }
        }
        return names;
    }

    private static int handleFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        return report(e, cl.getErr(), cl.getCommandSpec().qualifiedName());
    }

    /**
     * Reports a command's failure on {@code err} as one line (and a trace when debugging); returns 1,
     * or 2 for a mistake on the command line, which also says where the command's help is.
     */
    static int report(Exception e, PrintWriter err, String command) {
        err.println("vdmount: " + describe(e));
        if (e instanceof UsageError) {
            err.println("Try '" + command + " --help' for more information.");
        }
        err.flush();
        if (System.getenv("VDMOUNT_DEBUG") != null) {
            e.printStackTrace(err);
        }
        return e instanceof UsageError ? 2 : 1;
    }

    private static int handleBadUsage(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        String unknown = unknownCommand(e);
        err.println("vdmount: " + (unknown != null ? unknown : e.getMessage()));
        err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return 2;
    }

    /**
     * For a first word that is neither a command nor an existing file, what to say instead of
     * picocli's "Unmatched arguments": the closest command when it looks like a typo of one, or
     * that no such file exists when it looks like a path. Null for other mistakes.
     */
    static String unknownCommand(CommandLine.ParameterException e) {
        if (!(e instanceof CommandLine.UnmatchedArgumentException unmatched)
                || e.getCommandLine().getParent() != null || unmatched.getUnmatched().isEmpty()) {
            return null;
        }
        String word = unmatched.getUnmatched().get(0);
        if (word.startsWith("-")) {
            return null;
        }
        if (word.contains("/") || word.contains(".")) {
            return word + ": no such file (and not a command)";
        }
        String closest = null;
        int best = Integer.MAX_VALUE;
        for (String name : Names.ALL.keySet()) {
            int d = distance(word.toLowerCase(java.util.Locale.ROOT), name);
            if (d < best) {
                best = d;
                closest = name;
            }
        }
        boolean close = best <= Math.max(1, Math.min(2, word.length() / 3));
        return "unknown command '" + word + "'" + (close ? " (did you mean '" + closest + "'?)" : "");
    }

    /** Edits (insert, delete, replace, swap two neighbours) between two words: optimal string alignment. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** One line for any failure: image problems carry their file, the rest their class of trouble. */
    static String describe(Throwable e) {
        if (e instanceof ImageException || e instanceof UserError) {
            return e.getMessage();
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (this is a bug: please report the image that caused it)";
        }
        if (e instanceof IOException) {
            String msg = e.getMessage();
            return msg == null ? e.getClass().getSimpleName() : msg;
        }
        return "internal error: " + e + " (set VDMOUNT_DEBUG=1 for details)";
    }
}
