package org.vdmount.mounter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImplicitAttachTest {
    private static final Set<String> COMMANDS = Set.of("attach", "detach", "list", "help");

    @TempDir
    Path dir;

    @Test
    void anImageFirstMeansAttach() throws Exception {
        String image = Files.createFile(dir.resolve("list.img")).toString();
        assertArrayEquals(new String[] {"attach", image}, ImplicitAttach.rewrite(new String[] {image}, COMMANDS));
        assertArrayEquals(new String[] {"attach", "--transport", "fuse", image, "--foreground"},
                ImplicitAttach.rewrite(new String[] {"--transport", "fuse", image, "--foreground"}, COMMANDS));
    }

    @Test
    void commandsAndStrangersAreLeftAlone() throws Exception {
        String image = Files.createFile(dir.resolve("d.img")).toString();
        String[] detach = {"detach", image};
        assertArrayEquals(detach, ImplicitAttach.rewrite(detach, COMMANDS));
        String[] missing = {dir.resolve("nope.img").toString()};
        assertArrayEquals(missing, ImplicitAttach.rewrite(missing, COMMANDS));
        String[] directory = {dir.toString()};
        assertArrayEquals(directory, ImplicitAttach.rewrite(directory, COMMANDS));
        String[] help = {"--help"};
        assertArrayEquals(help, ImplicitAttach.rewrite(help, COMMANDS));
    }
}
