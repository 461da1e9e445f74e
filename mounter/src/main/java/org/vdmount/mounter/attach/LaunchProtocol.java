package org.vdmount.mounter.attach;

import java.io.PrintStream;
import java.util.List;
import org.vdmount.mounter.transport.AttachedDevice;

/**
 * The lines a background server writes on its standard output, a pipe its launcher reads until
 * "ready" or "error": {@code warn TAB text}, {@code device TAB path TAB size TAB name TAB label},
 * {@code ready TAB id}, {@code error TAB text}. Then the server closes the pipe.
 */
final class LaunchProtocol implements ServerOutput {
    static final String WARN = "warn";
    static final String DEVICE = "device";
    static final String READY = "ready";
    static final String ERROR = "error";

    private final PrintStream out;

    LaunchProtocol(PrintStream out) {
        this.out = out;
    }

    @Override
    public void warn(String message) {
        send(WARN, message);
    }

    @Override
    public void ready(int id, List<AttachedDevice> devices) {
        for (AttachedDevice d : devices) {
            send(DEVICE, d.path(), Long.toString(d.size()), d.name(), d.label());
        }
        send(READY, Integer.toString(id));
        // The launcher returns on EOF after "ready"; later output (logging) goes to the log on stderr.
        out.close();
    }

    void error(String message) {
        send(ERROR, message);
        out.close();
    }

    private void send(String kind, String... fields) {
        StringBuilder b = new StringBuilder(kind);
        for (String f : fields) {
            b.append('\t').append(f.replace('\t', ' ').replace('\n', ' ').replace('\r', ' '));
        }
        out.println(b);
        out.flush();
    }
}
