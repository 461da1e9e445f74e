package org.vdmount.mounter.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/vdmount, the launcher, in a tree of its own with a stand-in Java that prints the arguments
 * it is given: which Java it picks (a newer one only on PATH included), and which jar, cache and
 * JNA library it passes, reached through links to the script and to its directory.
 */
class LauncherTest {
    private static final Path TOP = Path.of(System.getProperty("vdmount.testdata", "../testdata"))
            .toAbsolutePath().resolve("..").normalize();

    @TempDir
    Path dir;
    private Path real;
    private Path fakeJdk;

    @BeforeEach
    void tree() throws IOException {
        real = Files.createDirectories(dir.resolve("real"));
        Files.createDirectories(real.resolve("bin"));
        Files.copy(TOP.resolve("bin/vdmount"), real.resolve("bin/vdmount"));
        Path target = Files.createDirectories(real.resolve("mounter/target"));
        Path jar = Files.write(target.resolve("vdmount.jar"), new byte[0]);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Files.createDirectories(target.resolve("vdmount-native"));
        Files.write(target.resolve("vdmount-native/libjnidispatch.so"), new byte[0]);
        Files.write(target.resolve("vdmount-99.0.1+7.aot"), new byte[0]);
        Files.createSymbolicLink(dir.resolve("alias"), real);

        // A Java newer than any installed, found only on PATH: it prints its arguments, one a line.
        fakeJdk = Files.createDirectories(dir.resolve("jdk-99"));
        Files.writeString(fakeJdk.resolve("release"), "JAVA_VERSION=\"99.0.1\"\nJAVA_RUNTIME_VERSION=\"99.0.1+7\"\n");
        Path java = Files.createDirectories(fakeJdk.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void findsANewerJavaOnPath() throws Exception {
        String jdks = run(real.resolve("bin/vdmount"), Map.of("VDMOUNT_LAUNCHER", "jdks"));
        assertTrue(jdks.contains("99.0.1\t" + fakeJdk.resolve("bin/java") + "\t99.0.1+7"), jdks);
    }

    @Test
    void runsThePhysicalJarWithItsCacheAndJnaLibraryThroughLinks() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("vd"), dir.resolve("alias/bin/vdmount"));
        List<String> args = run(link, Map.of()).lines().toList();
        Path target = real.toRealPath().resolve("mounter/target");
        assertEquals(target.resolve("vdmount.jar").toString(), args.get(args.indexOf("-jar") + 1), args.toString());
        assertTrue(args.contains("-XX:AOTCache=" + target.resolve("vdmount-99.0.1+7.aot")), args.toString());
        assertTrue(args.contains("-Djna.boot.library.path=" + target.resolve("vdmount-native")), args.toString());
        assertEquals("info", args.get(args.size() - 2), args.toString());

        // The same from the script's own directory, by a relative name.
        List<String> fromBin = run(Path.of("./vdmount"), Map.of(), dir.resolve("alias/bin")).lines().toList();
        assertEquals(args.get(args.indexOf("-jar") + 1), fromBin.get(fromBin.indexOf("-jar") + 1));
    }

    private String run(Path launcher, Map<String, String> env) throws Exception {
        return run(launcher, env, dir);
    }

    private String run(Path launcher, Map<String, String> env, Path cwd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "info", "x.qcow2").directory(cwd.toFile());
        pb.environment().remove("JAVA");
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("VDMOUNT_LAUNCHER");
        pb.environment().put("PATH", fakeJdk.resolve("bin") + ":/usr/bin:/bin");
        pb.environment().putAll(env);
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
