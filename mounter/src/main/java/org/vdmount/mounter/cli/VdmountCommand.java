package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintWriter;
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
            "Run 'vdmount COMMAND --help' for a command's options. Set VDMOUNT_DEBUG=1 to get stack traces of internal errors."},
        subcommands = {
            AttachCommand.class,
            DetachCommand.class,
            ListCommand.class,
            InfoCommand.class,
            CatCommand.class,
            VerifyCommand.class,
            ServeCommand.class,
            CommandLine.HelpCommand.class})
public final class VdmountCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new VdmountCommand());
        cl.setExecutionExceptionHandler(VdmountCommand::handleFailure);
        cl.setParameterExceptionHandler(VdmountCommand::handleBadUsage);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(ImplicitAttach.rewrite(args, cl.getSubcommands().keySet()));
    }

    private static int handleFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
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
