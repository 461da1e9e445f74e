package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** A command run alone is built alone, and behaves exactly as it does in the whole tree. */
class CommandTreeTest {
    private static final List<String> ALL =
            List.of("attach", "detach", "list", "mount", "umount", "unmount", "info", "cat", "verify", "commit", "serve",
                    "help");

    @Test
    void aNamedCommandIsBuiltWithoutTheOthers() {
        assertEquals(Set.of("cat"), VdmountCommand.commandLine("cat").getSubcommands().keySet());
        assertEquals(Set.of("serve"), VdmountCommand.commandLine("serve").getSubcommands().keySet());
        assertEquals(Set.of("umount", "unmount"), VdmountCommand.commandLine("unmount").getSubcommands().keySet());
    }

    @Test
    void helpAnOptionOrAnUnknownWordGetsEveryCommandInHelpOrder() {
        for (String first : new String[] {"help", "--help", "--version", "nonsense"}) {
            assertEquals(ALL, List.copyOf(VdmountCommand.commandLine(first).getSubcommands().keySet()), first);
        }
        assertEquals(ALL, List.copyOf(VdmountCommand.commandLine().getSubcommands().keySet()));
    }

    @Test
    void eachCommandsHelpAndErrorsAreTheSameAloneAsInTheWholeTree() {
        for (String command : ALL) {
            if (command.equals("help") || command.equals("unmount")) {
                continue;
            }
            assertEquals(output(VdmountCommand.commandLine(), command, "--help"),
                    output(VdmountCommand.commandLine(command), command, "--help"), command);
            assertEquals(output(VdmountCommand.commandLine(), command, "--no-such-option"),
                    output(VdmountCommand.commandLine(command), command, "--no-such-option"), command);
        }
    }

    private static String output(CommandLine cl, String... args) {
        StringWriter text = new StringWriter();
        cl.setOut(new PrintWriter(text));
        cl.setErr(new PrintWriter(text));
        int status = cl.execute(args);
        return status + "\n" + text;
    }
}
