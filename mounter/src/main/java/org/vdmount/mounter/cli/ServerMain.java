package org.vdmount.mounter.cli;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.vdmount.mounter.attach.AttachOptions;
import org.vdmount.mounter.attach.AttachServer;
import org.vdmount.mounter.attach.ServerOutput;

/** The background attach server's body: everything it says before "ready" goes over the launch pipe. */
final class ServerMain {
    private ServerMain() {
    }

    static int run(AttachOptions options, AuditOptions audit) {
        PrintStream pipe = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        // Nothing else may write to the pipe: stray output would confuse the launcher.
        System.setOut(System.err);
        ServerOutput output = ServerOutput.pipe(pipe);
        try {
            AttachServer.serve(options, output, true, audit.trail(output::warn));
            return 0;
        } catch (Exception | Error e) {
            String message = VdmountCommand.describe(e);
            System.err.println("vdmount: " + message);
            if (System.getenv("VDMOUNT_DEBUG") != null) {
                e.printStackTrace();
            }
            ServerOutput.failed(output, message);
            return 1;
        }
    }
}
