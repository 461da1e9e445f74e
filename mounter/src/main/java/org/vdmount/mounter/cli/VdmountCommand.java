package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.vdmount.formats.ImageException;
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
            ServeCommand.class,
            CommandLine.HelpCommand.class);

    /**
     * Every name and alias of every command, as the commands' own annotations give them: read at
     * the first use, not when this class loads, since reading annotations costs the commands that
     * {@link QuickCommands} runs a good part of their start.
     */
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
        Integer quick = QuickCommands.run(args);
        if (quick != null) {
            return quick;
        }
        String[] rewritten = ImplicitAttach.rewrite(args, Names.ALL.keySet());
        return commandLine(rewritten.length > 0 ? rewritten[0] : null).execute(rewritten);
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
        return report(e, cl.getErr());
    }

    /** Reports a command's failure on {@code err} as one line (and a trace when debugging); returns 1. */
    static int report(Exception e, PrintWriter err) {
        err.println("vdmount: " + describe(e));
        err.flush();
        if (System.getenv("VDMOUNT_DEBUG") != null) {
            e.printStackTrace(err);
        }
        return 1;
    }

    private static int handleBadUsage(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("vdmount: " + e.getMessage());
        err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return 2;
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
