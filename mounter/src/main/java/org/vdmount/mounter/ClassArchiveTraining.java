package org.vdmount.mounter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vdmount.mounter.cli.VdmountCommand;
import org.vdmount.mounter.jna.JnaSearchPath;

/**
 * Runs the everyday short commands once on a sample image, in one JVM, so that
 * {@code -XX:ArchiveClassesAtExit} can record the classes they load. The launcher then starts every
 * command from that class-data archive, which saves a good part of a short command's start-up
 * (picocli's model, the formats, the lambdas). Run by {@code make}; not a user command.
 */
public final class ClassArchiveTraining {
    private ClassArchiveTraining() {
    }

    /** Runs the commands on each image given (the sample, in each format at hand). */
    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: ClassArchiveTraining SAMPLE-IMAGE...");
            System.exit(2);
        }
        JnaSearchPath.setUnlessSet(); // as Main does: the cache then holds what a real start loads
        Path out = Files.createTempFile("vdmount-training", ".raw");
        int status = 0;
        try {
            status |= VdmountCommand.run("--help");
            status |= VdmountCommand.run("--version");
            for (String image : args) { // one image per format: each format's reader is archived
                status |= VdmountCommand.run("info", image);
                status |= VdmountCommand.run("info", "--json", image);
                status |= VdmountCommand.run("cat", image, "-o", out.toString());
                status |= VdmountCommand.run("verify", image);
            }
            status |= VdmountCommand.run("list");
        } finally {
            Files.deleteIfExists(out);
        }
        System.exit(status);
    }
}
