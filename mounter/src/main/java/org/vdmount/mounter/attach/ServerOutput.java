package org.vdmount.mounter.attach;

import java.io.PrintStream;
import java.util.List;
import org.vdmount.mounter.transport.AttachedDevice;

/** Where an attach server says how it went: to the user's terminal, or over the pipe to the client that launched it. */
public interface ServerOutput {
    void warn(String message);

    void ready(int id, List<AttachedDevice> devices);

    /** A background server talking to its launcher (see {@link LaunchProtocol}). */
    static ServerOutput pipe(PrintStream pipe) {
        return new LaunchProtocol(pipe);
    }

    /** Reports a failure before "ready" (to the launcher, or nowhere for a foreground server, which prints it itself). */
    static void failed(ServerOutput output, String message) {
        if (output instanceof LaunchProtocol p) {
            p.error(message);
        }
    }

    /** A foreground server talking to the user directly. */
    static ServerOutput human(PrintStream out, PrintStream err) {
        return new ServerOutput() {
            @Override
            public void warn(String message) {
                err.println("vdmount: warning: " + message);
            }

            @Override
            public void ready(int id, List<AttachedDevice> devices) {
                devices.forEach(d -> out.println(DeviceLines.line(d)));
                out.flush();
                err.println("vdmount: attachment " + id + " served in the foreground; stop with Ctrl-C or 'vdmount detach " + id + "'");
            }
        };
    }
}
