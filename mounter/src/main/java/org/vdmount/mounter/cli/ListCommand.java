package org.vdmount.mounter.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import org.vdmount.mounter.attach.AttachmentRecord;
import org.vdmount.mounter.attach.DeviceLines;
import org.vdmount.mounter.attach.RunDirectory;
import org.vdmount.mounter.transport.AttachedDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vdmount list [--json]}: every attachment with its image, transport, mode, server and devices. */
@Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Show attached images: devices, image, transport, mode, server pid, and the server's log file.",
            "",
            "A background server logs what goes wrong while it serves (an image that cannot be read: one line per kind of failure, with VDMOUNT_DEBUG=1 a stack trace too) to /run/vdmount/ID.log, kept after detach until the id is used again."})
public final class ListCommand implements Callable<Integer> {

    @Option(names = "--json", description = "One JSON array, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<AttachmentRecord> records = RunDirectory.standard().list();
        PrintStream out = System.out;
        if (json) {
            out.println(toJson(records));
        } else if (records.isEmpty()) {
            out.println("nothing is attached");
        } else {
            for (AttachmentRecord r : records) {
                out.println(r.id() + ": " + (r.starting() ? "(starting)" : r.image()) + "  [" + r.transport() + ", "
                        + r.mode() + ", server pid " + r.pid() + (r.serverAlive() ? "" : " (not running)") + "]");
                for (AttachedDevice d : r.devices()) {
                    out.println("  " + DeviceLines.line(d));
                }
                if (!r.log().isEmpty()) {
                    out.println("  log: " + r.log());
                }
            }
        }
        out.flush();
        return 0;
    }

    static String toJson(List<AttachmentRecord> records) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < records.size(); i++) {
            AttachmentRecord r = records.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("  {\"id\": ").append(r.id())
                    .append(", \"image\": ").append(quote(r.image()))
                    .append(", \"transport\": ").append(quote(r.transport()))
                    .append(", \"mode\": ").append(quote(r.mode()))
                    .append(", \"pid\": ").append(r.pid())
                    .append(", \"running\": ").append(r.serverAlive())
                    .append(", \"log\": ").append(r.log().isEmpty() ? "null" : quote(r.log()))
                    .append(", \"devices\": [");
            for (int k = 0; k < r.devices().size(); k++) {
                AttachedDevice d = r.devices().get(k);
                b.append(k == 0 ? "" : ", ").append("{\"path\": ").append(quote(d.path()))
                        .append(", \"size\": ").append(d.size())
                        .append(", \"name\": ").append(quote(d.name()))
                        .append(", \"label\": ").append(quote(d.label())).append('}');
            }
            b.append("]");
            r.state().forEach((k, v) -> b.append(", ").append(quote(k)).append(": ").append(quote(v)));
            b.append('}');
        }
        return b.append(records.isEmpty() ? "]" : "\n]").toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
