package org.vdmount.mounter.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import com.google.common.net.InetAddresses;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.serve.NbdServer;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount serve}: offers images to NBD clients. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        headerHeading = "",
        header = "Serve disk images over NBD (the Network Block Device protocol).",
        synopsisHeading = "%nUsage: ",
        descriptionHeading = "%nDescription:%n",
        description = {
            "Offers each IMAGE (raw, qcow2, VMDK... with its backing chain) as an NBD export that "
                + "any NBD client can read: qemu (qemu-img, qemu-system), nbdinfo, nbdcopy, nbdfuse, "
                + "fio, nbd-client and the Linux kernel's nbd driver, on this machine or another one.",
            "",
            "Each export is named after its image's file name (\"disk.qcow2\" for /srv/disk.qcow2) "
                + "or as --export-name says; the first image is also the default export, the one a "
                + "client gets when it asks for no name. When the server is ready it prints one line "
                + "per export to standard output, starting with the export's URI, then serves until "
                + "it receives SIGINT (Ctrl-C) or SIGTERM: it then closes every connection, removes "
                + "its Unix socket and exits (with status 130 or 143, as for any signal).",
            "",
            "Exports are read-only unless --rw is given, so evidence is served as it is. Read-only "
                + "exports let a client open several connections at once (NBD_FLAG_CAN_MULTI_CONN). "
                + "Holes and zero clusters are reported to clients (structured replies, and block "
                + "status with base:allocation), so 'qemu-img convert' and 'nbdcopy' skip them.",
            "",
            "Security: there is no TLS and no authentication yet. Anyone who can reach the port can "
                + "read every export (and write it, with --rw). That is why the server listens on "
                + "127.0.0.1 unless told otherwise. To serve other machines, --bind an address of a "
                + "network you trust, or keep the default and reach the server through an SSH tunnel "
                + "(ssh -L 10809:127.0.0.1:10809 host).",
            ""},
        optionListHeading = "%nOptions:%n",
        parameterListHeading = "%nArguments:%n",
        footerHeading = "%nExamples:%n",
        footer = {
            "  vdmount serve disk.qcow2",
            "      nbd://127.0.0.1:10809/disk.qcow2 (read-only); e.g. nbdinfo nbd://127.0.0.1",
            "  vdmount serve --socket /run/disk.sock evidence.vmdk",
            "      qemu-img convert -O raw 'nbd+unix:///?socket=/run/disk.sock' copy.raw",
            "  vdmount serve --port 10900 --export-name sys --export-name data a.qcow2 b.vmdk",
            "      two exports, nbd://127.0.0.1:10900/sys and nbd://127.0.0.1:10900/data",
            "  vdmount serve --bind 192.168.10.5 --verbose evidence.qcow2",
            "      on a lab server; a workstation attaches it with the kernel's nbd:",
            "      nbd-client -readonly -N evidence.qcow2 192.168.10.5 /dev/nbd0",
            "  ssh -L 10809:127.0.0.1:10809 labserver",
            "      reaches a loopback-only server through an encrypted tunnel",
            "",
            "Exit status: 1 when an image cannot be opened or the address cannot be used, 2 for bad "
                + "usage; once serving, 130/143 after a clean stop on SIGINT/SIGTERM."})
public final class ServeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "IMAGE", arity = "1..*",
            description = "Image files (or block devices) to serve, one export each.")
    List<Path> images;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; "
                + "0.0.0.0 or :: for every interface). There is no TLS yet: see Security above.")
    String bind;

    @Option(names = "--port", paramLabel = "N", defaultValue = "10809",
            description = "TCP port (default: ${DEFAULT-VALUE}, the NBD port; 0 picks a free one).")
    int port;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Listen on a Unix socket at PATH instead of TCP; clients use "
                + "nbd+unix:///NAME?socket=PATH. Who may connect is then decided by the file's permissions.")
    Path socket;

    @Option(names = "--export-name", paramLabel = "NAME",
            description = "Name of an export instead of its file name; repeat it for the next "
                + "images, in order (the first names the first image...).")
    List<String> exportNames = new ArrayList<>();

    @Option(names = "--snapshot", paramLabel = "NAME",
            description = "Serve this internal snapshot (name or id) of each image instead of its current state.")
    String snapshot;

    @Option(names = "--disk", paramLabel = "N",
            description = "For containers of several disks (OVA): serve disk N of each, counted from 1.")
    int disk;

    @Option(names = "--read-only", description = "Refuse writes (the default).")
    boolean readOnly;

    @Option(names = "--rw", description = "Let clients write to the images themselves. Only formats "
            + "vdmount can write are accepted (raw for now). Never use it on evidence.")
    boolean readWrite;

    @Option(names = "--overlay", paramLabel = "FILE",
            description = "Send writes to a new overlay file, keeping the image untouched (not available yet).")
    Path overlay;

    @Option(names = {"-v", "--verbose"},
            description = "Log every client on standard error: its address, the export it opened, "
                + "and when it leaves, its requests and the bytes it read and wrote.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SocketAddress where = checkOptions();
        List<VirtualDisk> disks = new ArrayList<>();
        NbdServer server;
        try {
            NbdExports exports = open(disks, err);
            try {
                server = NbdServer.start(exports, where, line -> {
                    err.println("vdmount: serve: " + line);
                    err.flush();
                });
            } catch (IOException e) {
                throw new UserError("cannot listen on " + describe(where) + ": " + e.getMessage());
            }
            server.verbose(verbose);
        } catch (IOException | RuntimeException e) {
            closeAll(disks);
            throw e;
        }
        Thread stopper = new Thread(() -> {
            try {
                server.close();
            } catch (IOException e) {
                // exiting anyway
            }
            closeAll(disks);
        }, "vdmount-serve-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        for (NbdExport export : server.exports().all()) {
            out.println(uri(server.address(), export.name()) + "  (" + export.description()
                    + (export.writable() ? ", read-write" : ", read-only") + ")");
        }
        out.flush();
        server.awaitClose();
        return 0;
    }

    private SocketAddress checkOptions() {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        if (readOnly && readWrite) {
            throw new UserError("--rw and --read-only contradict each other");
        }
        if (overlay != null) {
            throw new UserError("--overlay is not available yet (write overlays come in a later release); "
                    + "serve read-only, or use --rw on a raw image you may change");
        }
        if (readWrite && snapshot != null) {
            throw new UserError("--rw cannot write into an internal snapshot; drop --snapshot or --rw");
        }
        if (disk < 0) {
            throw new UserError("--disk counts from 1");
        }
        if (exportNames.size() > images.size()) {
            throw new UserError("more --export-name options (" + exportNames.size() + ") than images ("
                    + images.size() + ")");
        }
        if (socket != null) {
            if (parsed.hasMatchedOption("--bind") || parsed.hasMatchedOption("--port")) {
                throw new UserError("--socket listens on a Unix socket: it cannot be combined with --bind or --port");
            }
            if (Files.exists(socket)) {
                throw new UserError(socket + ": already exists (another server's socket? remove it first)");
            }
            return UnixDomainSocketAddress.of(socket);
        }
        if (port < 0 || port > 65535) {
            throw new UserError("--port " + port + ": not a TCP port (0 to 65535)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new UserError("--bind " + bind + ": no such address");
        }
    }

    private NbdExports open(List<VirtualDisk> disks, PrintWriter err) throws IOException {
        OpenOptions options = new OpenOptions(snapshot, disk, readWrite);
        List<NbdExport> exports = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < images.size(); i++) {
            Path image = images.get(i);
            String name = i < exportNames.size() ? exportNames.get(i) : String.valueOf(image.getFileName());
            if (name.getBytes(StandardCharsets.UTF_8).length > 4096 || name.indexOf('\0') >= 0) {
                throw new UserError("export name '" + name + "' is not valid (at most 4096 bytes, no NUL)");
            }
            if (!names.add(name)) {
                throw new UserError("two exports would be named '" + name + "': name them with --export-name");
            }
            VirtualDisk disk = Images.open(image, options, warning -> {
                err.println("vdmount: warning: " + warning);
                err.flush();
            });
            disks.add(disk);
            if (readWrite && !disk.writable()) {
                throw new UserError(image + ": writing " + disk.info().format()
                        + " images is not supported yet; serve it read-only (without --rw)");
            }
            String description = image + ", " + disk.info().format() + ", " + disk.size() + " bytes";
            exports.add(NbdExport.of(name, description, disk, readWrite, line -> {
                err.println("vdmount: serve: " + line);
                err.flush();
            }));
        }
        return new NbdExports(exports);
    }

    /** The URI a client would use: nbd://host:port/name or nbd+unix:///name?socket=path. */
    static String uri(SocketAddress address, String exportName) {
        String name = encode(exportName);
        if (address instanceof UnixDomainSocketAddress unix) {
            return "nbd+unix:///" + name + "?socket=" + encode(unix.getPath().toString()).replace("%2F", "/");
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        // toUriString: IPv6 in brackets and in its short form, [::1] rather than [0:0:0:0:0:0:0:1].
        return "nbd://" + InetAddresses.toUriString(inet.getAddress()) + ":" + inet.getPort() + "/" + name;
    }

    private static String encode(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c < 128 && (Character.isLetterOrDigit(c) || "-._~".indexOf(c) >= 0)) {
                sb.append(c);
            } else {
                sb.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return sb.toString();
    }

    private static String describe(SocketAddress where) {
        if (where instanceof UnixDomainSocketAddress unix) {
            return unix.getPath().toString();
        }
        InetSocketAddress inet = (InetSocketAddress) where;
        return InetAddresses.toUriString(inet.getAddress()) + ":" + inet.getPort();
    }

    private static void closeAll(List<VirtualDisk> disks) {
        for (VirtualDisk disk : disks) {
            try {
                disk.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
