package org.vdmount.mounter.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * The everyday short commands in their plain forms ({@code --version}, {@code info [--json] IMAGE},
 * {@code list [--json]}), run without picocli. Building a command's model reads its annotations
 * by reflection, and the JVM makes a proxy class for each annotation type the first time: on a
 * start from the ahead-of-time cache that was half of {@code vdmount info}'s 0.14 s. Anything else
 * (help, other options, mistakes) returns null and goes to picocli, which stays the one
 * definition of the commands: this class only fills the fields picocli would fill, with the same
 * defaults, and reports failures through the same {@link VdmountCommand#report}. A test runs
 * every form both ways and compares the output.
 */
final class QuickCommands {
    private QuickCommands() {
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
        boolean json = false;
        String operand = null;
        for (int i = 1; i < args.length; i++) {
            if ("--json".equals(args[i]) && !json) {
                json = true;
            } else if (operand == null && !args[i].isEmpty() && !args[i].startsWith("-")) {
                operand = args[i];
            } else {
                return null;
            }
        }
        switch (args[0]) {
            case "info" -> {
                if (operand == null) {
                    return null;
                }
                InfoCommand info = new InfoCommand();
                info.image = new ImageOptions();
                info.image.image = Path.of(operand);
                info.json = json;
                return call(info);
            }
            case "list" -> {
                if (operand != null) {
                    return null;
                }
                ListCommand list = new ListCommand();
                list.json = json;
                return call(list);
            }
            default -> {
                return null;
            }
        }
    }

    /** Standard error as picocli writes to it: in the terminal's encoding when it is one. */
    private static PrintWriter standardError() {
        String encoding = System.getProperty("sun.stderr.encoding");
        Charset charset = encoding != null && Charset.isSupported(encoding) ? Charset.forName(encoding)
                : Charset.defaultCharset();
        return new PrintWriter(new OutputStreamWriter(System.err, charset), true);
    }

    private static Integer call(Callable<Integer> command) {
        try {
            return command.call();
        } catch (Exception e) {
            return VdmountCommand.report(e, standardError());
        } finally {
            System.out.flush();
        }
    }
}
