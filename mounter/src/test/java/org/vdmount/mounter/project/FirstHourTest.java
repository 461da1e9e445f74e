package org.vdmount.mounter.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.mounter.cli.VdmountCommand;
import picocli.CommandLine;

/**
 * What a new user meets before vdmount runs: the README's set-up commands, its examples and the
 * commands' help, and the Makefile that builds and installs.
 */
class FirstHourTest {
    private static final Path TOP = Path.of(System.getProperty("vdmount.testdata", "../testdata"))
            .toAbsolutePath().resolve("..").normalize();

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(Path cwd, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        // Run as a user would, not as a sub-make of the `make test` that runs these tests (which
        // would print "Entering directory" lines and pass on its flags).
        for (String inherited : List.of("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")) {
            pb.environment().remove(inherited);
        }
        pb.environment().putAll(env);
        Path err = Files.createTempFile("make", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), String.join(" ", command));
        String errText = Files.readString(err);
        Files.delete(err);
        return new Run(p.exitValue(), out, errText);
    }

    private static List<String> shellBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL).matcher(markdown);
        while (m.find()) {
            blocks.add(m.group(1).strip());
        }
        return blocks;
    }

    @Test
    void theReadmesSetUpCommandsWorkWithAndWithoutSudo() throws Exception {
        String readme = Files.readString(TOP.resolve("README.md"));
        String quickStart = readme.substring(readme.indexOf("## Quick start"), readme.indexOf("## Formats"));
        List<String> blocks = shellBlocks(quickStart);
        List<String> asRoot = blocks.stream().filter(b -> !b.contains("sudo")).toList();
        List<String> withSudo = blocks.stream().filter(b -> b.contains("sudo")).toList();
        assertEquals(2, asRoot.size(), "a root form of each command (a fresh Debian has no sudo): " + blocks);
        assertEquals(2, withSudo.size(), blocks.toString());
        for (String sudo : withSudo) {
            assertTrue(asRoot.contains(sudo.replace("sudo ", "")), "no root form of: " + sudo);
        }
        // Every make target they name is a rule of the Makefile (make's database, nothing run).
        String rules = run(TOP, Map.of(), "make", "-p", "-R", "-r", "-q", "-f", "Makefile", "--", ":").out();
        for (String block : asRoot) {
            for (String part : block.split("&&")) {
                String cmd = part.strip();
                if (cmd.startsWith("make ")) {
                    String target = cmd.substring(5).strip();
                    assertTrue(rules.contains("\n" + target + ":"), "no make target " + target);
                }
            }
        }
    }

    @Test
    void examplesUseOnlyWhatAFreshMachineHasOrNameThePackage() throws Exception {
        List<String> texts = new ArrayList<>();
        texts.add(Files.readString(TOP.resolve("README.md")));
        CommandLine tree = VdmountCommand.commandLine();
        for (CommandLine sub : tree.getSubcommands().values()) {
            texts.add(sub.getUsageMessage(CommandLine.Help.Ansi.OFF));
        }
        for (String text : texts) {
            for (String line : text.split("\\n")) {
                assertFalse(line.matches(".*\\|\\s*xxd\\b.*"), "xxd is a package of its own: " + line);
                if (line.matches(".*\\|\\s*jq\\b.*")) {
                    assertTrue(line.contains("apt-get install jq"), "jq is not on a fresh machine: " + line);
                }
            }
        }
    }

    @Test
    void helpNeverBreaksAFileNameAcrossLines() {
        CommandLine tree = VdmountCommand.commandLine();
        List<String> texts = new ArrayList<>(List.of(tree.getUsageMessage(CommandLine.Help.Ansi.OFF)));
        for (CommandLine sub : tree.getSubcommands().values()) {
            texts.add(sub.getUsageMessage(CommandLine.Help.Ansi.OFF));
        }
        // picocli may wrap after a dot inside a word: "ca-cert." at the end of a line, "pem" on the next.
        Pattern brokenName = Pattern.compile("[\\w-]\\.\\n\\s*[a-z0-9]{1,4}\\b(?!\\s{2})");
        for (String text : texts) {
            Matcher m = brokenName.matcher(text);
            assertFalse(m.find(), "a name broken across lines: ..." + (m.find(0) ? text.substring(
                    Math.max(0, m.start() - 40), Math.min(text.length(), m.end() + 10)) : ""));
        }
    }

    /** A copy of the Makefile in a tree of stand-in sources, with a stand-in apt-get and mvn. */
    private Path fakeTree() throws IOException {
        Path top = dir.resolve("tree");
        Files.createDirectories(top.resolve("testdata/sample"));
        Files.copy(TOP.resolve("Makefile"), top.resolve("Makefile"));
        Files.createDirectories(top.resolve("kmod"));
        Files.copy(TOP.resolve("kmod/kernels.mk"), top.resolve("kmod/kernels.mk")); // included by the Makefile
        Files.writeString(top.resolve("pom.xml"), "<project/>\n");
        for (String module : List.of("formats", "mounter", "picocli")) {
            Path src = Files.createDirectories(top.resolve(module + "/src/main/java/x"));
            Files.writeString(src.resolve("A.java"), "class A {}\n");
            Files.writeString(top.resolve(module + "/pom.xml"), "<project/>\n");
        }
        Path jar = Files.createDirectories(top.resolve("mounter/target")).resolve("vdmount.jar");
        Files.writeString(jar, "not a jar");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : List.of("apt-get", "mvn")) {
            Path fake = bin.resolve(tool);
            Files.writeString(fake, "#!/bin/sh\necho \"" + tool + " $*\" >> " + dir.resolve("calls") + "\n");
            fake.toFile().setExecutable(true);
        }
        // Sources older than the jar: everything is up to date.
        try (var files = Files.walk(top)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f) && !f.equals(jar)) {
                    Files.setLastModifiedTime(f, FileTime.from(Instant.now().minusSeconds(3600)));
                }
            }
        }
        return top;
    }

    private Map<String, String> withFakes() {
        return Map.of("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
    }

    @Test
    void theJarIsBuiltOnlyWhenASourceChangedAndMakeSaysWhatItDoesInShortLines() throws Exception {
        Path top = fakeTree();
        Run upToDate = run(top, withFakes(), "make", "jar");
        assertEquals(0, upToDate.exit(), upToDate.err());
        assertFalse(Files.exists(dir.resolve("calls")), "nothing changed, so Maven is not run");

        Files.setLastModifiedTime(top.resolve("formats/src/main/java/x/A.java"), FileTime.from(Instant.now().plusSeconds(5)));
        Run rebuilt = run(top, withFakes(), "make", "jar");
        assertEquals(0, rebuilt.exit(), rebuilt.err());
        assertTrue(Files.readString(dir.resolve("calls")).contains("mvn -B -q -Dstyle.color=never package -DskipTests"));
        List<String> lines = rebuilt.out().lines().toList();
        assertTrue(lines.get(0).startsWith("building mounter/target/vdmount.jar"), rebuilt.out());
        for (String line : lines) {
            assertFalse(line.contains("java -XX") || line.contains("rm -f") || line.contains("mvn "),
                    "recipes are not echoed: " + rebuilt.out());
        }
    }

    @Test
    void makeDepsSaysWhatItInstalls() throws Exception {
        Path top = fakeTree();
        Run deps = run(top, withFakes(), "make", "deps");
        assertEquals(0, deps.exit(), deps.err());
        assertTrue(deps.out().contains("installing what vdmount needs to build and run"), deps.out());
        assertTrue(deps.out().contains("openjdk-17-jdk-headless maven make"), deps.out());
        assertTrue(Files.readString(dir.resolve("calls")).contains("apt-get install -y -q --no-install-recommends "
                + "openjdk-17-jdk-headless"));
    }
}
