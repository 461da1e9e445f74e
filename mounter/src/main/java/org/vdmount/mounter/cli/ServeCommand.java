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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import com.google.common.net.InetAddresses;
import org.vdmount.formats.ImageException;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.attach.WritableDisks;
import org.vdmount.mounter.audit.AuditEntry;
import org.vdmount.mounter.audit.AuditTrail;
import org.vdmount.mounter.audit.ImageFiles;
import org.vdmount.mounter.gateway.IoCounts;
import org.vdmount.mounter.nbd.NbdExport;
import org.vdmount.mounter.nbd.NbdExports;
import org.vdmount.mounter.nbd.StartTls;
import org.vdmount.mounter.serve.NbdServer;
import org.vdmount.mounter.serve.TlsCredentials;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vdmount serve}: offers images to NBD clients. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Serve each IMAGE over NBD (the Network Block Device protocol) to any NBD client: qemu-img, qemu, nbdinfo, nbdcopy, nbdfuse, fio, nbd-client and the kernel's nbd driver, on this machine or another one.",
            "",
            "Each export is named after its image's file name, or as --export-name says; the first image is also the default export, the one a client gets when it asks for no name. When the server is ready it prints one line per export, starting with the export's URI, then serves until it receives SIGINT (Ctrl-C) or SIGTERM: it then closes every connection, removes its Unix socket and exits (with status 130 or 143, as for any signal).",
            "",
            "Exports are read-only unless --rw or --overlay is given, so evidence is served as it is. Holes and zero clusters are reported to clients (structured replies, and block status with base:allocation), so 'qemu-img convert' and 'nbdcopy' skip them.",
            "",
            "Security: without --tls-creds, anyone who can reach the port can read every export (and write it, with --rw), and nothing is encrypted: that is why the server listens on 127.0.0.1 unless told otherwise. With --tls-creds DIR, clients must start TLS (NBD's STARTTLS) before they see any export, and, when DIR holds ca-cert.pem, must show a certificate that CA signed. DIR holds the files that qemu-nbd reads: server-cert.pem, server-key.pem (unencrypted), ca-cert.pem. Clients connect with nbds:// URIs."},
        footer = {"", "Examples:",
            "  vdmount serve disk.qcow2",
            "  nbdinfo nbd://127.0.0.1/disk.qcow2",
            "",
            "  vdmount serve --socket /run/disk.sock evidence.vmdk",
            "  qemu-img convert -O raw 'nbd+unix:///?socket=/run/disk.sock' copy.raw",
            "",
            "  vdmount serve --port 10900 --export-name sys --export-name data a.qcow2 b.vmdk",
            "",
            "  vdmount serve --bind 0.0.0.0 --tls-creds /etc/pki/vdmount evidence.qcow2",
            "  nbdinfo 'nbds://lab.example/evidence.qcow2?tls-certificates=/etc/pki/client'",
            "",
            "Exit status: 1 when an image cannot be opened or the address cannot be used, 2 for a mistake on the command line; once serving, 130 or 143 after a clean stop on SIGINT or SIGTERM."})
public final class ServeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "IMAGE", arity = "1..*",
            description = "Images (or block devices) to serve, one export each.")
    List<Path> images;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 or :: for "
                    + "every interface: see Security above).")
    String bind;

    @Option(names = "--port", paramLabel = "N", defaultValue = "10809",
            description = "TCP port (default: ${DEFAULT-VALUE}, the NBD port; 0 picks a free one).")
    int port;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Listen on a Unix socket at PATH instead of TCP; clients use nbd+unix:///NAME?socket=PATH. "
                    + "Who may connect is then decided by the file's permissions.")
    Path socket;

    @Option(names = "--export-name", paramLabel = "NAME",
            description = "Name of an export instead of its file name; repeat it for the next images, in order.")
    List<String> exportNames = new ArrayList<>();

    @Mixin
    WriteOptions write;

    @Mixin
    SourceOptions source;

    @Option(names = "--tls-creds", paramLabel = "DIR",
            description = "Encrypt with TLS, using the X.509 files in DIR, named as for qemu-nbd: "
                    + "server-cert.pem, server-key.pem, and ca-cert.pem to check the clients' certificates.")
    Path tlsCreds;

    @Option(names = "--tls-required", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "With --tls-creds, refuse clients that do not start TLS (the default); "
                    + "--no-tls-required also serves clients in the clear.")
    boolean tlsRequired;

    @Option(names = {"-v", "--verbose"},
            description = "Log every client on standard error: its address, the export it opened, and when it "
                    + "leaves, its requests and the bytes it read and wrote.")
    boolean verbose;

    @Mixin
    AuditOptions audit;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Consumer<String> log = line -> {
            err.println("vdmount: serve: " + line);
            err.flush();
        };
        SocketAddress where = checkOptions();
        AuditTrail trail = audit.trail(w -> {
            err.println("vdmount: warning: " + w);
            err.flush();
        });
        trail.checkWritable();
        StartTls tls = tlsCreds == null ? null : TlsCredentials.load(tlsCreds, w -> {
            err.println("vdmount: warning: " + w);
            err.flush();
        }).startTls(tlsRequired);
        List<VirtualDisk> disks = new ArrayList<>();
        NbdServer server;
        try {
            NbdExports exports = open(disks, err, log);
            try {
                server = NbdServer.start(exports, where, tls, log);
            } catch (IOException e) {
                throw new UserError("cannot listen on " + describe(where) + ": " + e.getMessage());
            }
            server.verbose(verbose);
            try {
                trail.append(record(AuditEntry.of("serve"), server, disks, tls));
            } catch (RuntimeException required) {
                server.close();
                throw required;
            }
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
            for (NbdExport export : server.exports().all()) {
                String summary = export.gateway().failures().summary();
                if (summary != null) {
                    log.accept(summary);
                }
            }
            // The byte counts of every client, from the gateways all requests pass (IoCounts).
            IoCounts counts = IoCounts.process();
            try {
                trail.append(record(AuditEntry.of("end"), server, disks, tls).put("how", "stopped by a signal")
                        .put("bytes-read", counts.bytesRead()).put("bytes-written", counts.bytesWritten()));
            } catch (RuntimeException e) {
                log.accept(e.getMessage());
            }
            closeAll(disks);
        }, "vdmount-serve-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        for (NbdExport export : server.exports().all()) {
            out.println(uri(server.address(), export.name(), tls != null && tls.required()) + "  ("
                    + export.description() + (export.writable() ? ", read-write" : ", read-only")
                    + (tls == null ? "" : tls.required() ? ", TLS" : ", TLS offered") + ")");
        }
        out.flush();
        server.awaitClose();
        return 0;
    }

    /** What a serve's audit records say besides the common fields: files, exports, address, mode. */
    private AuditEntry record(AuditEntry entry, NbdServer server, List<VirtualDisk> disks, StartTls tls) {
        List<Map<String, Object>> files = new ArrayList<>();
        disks.forEach(d -> files.addAll(ImageFiles.of(d)));
        List<String> uris = new ArrayList<>();
        for (NbdExport export : server.exports().all()) {
            uris.add(uri(server.address(), export.name(), tls != null && tls.required()));
        }
        return entry.put("images", files)
                .put("mode", write.overlay != null ? "overlay" : write.readWrite ? "read-write" : "read-only")
                .put("overlay", write.overlay == null ? null : write.overlay.toAbsolutePath().toString())
                .put("transport", "nbd-server")
                .put("exports", uris)
                .put("tls", tls != null)
                .put("server-pid", ProcessHandle.current().pid());
    }

    private SocketAddress checkOptions() {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        write.check(source);
        source.openOptions(write.readWrite);
        if (write.overlay != null && images.size() > 1) {
            throw new UsageError("--overlay takes the writes of one image: serve one image per overlay file");
        }
        if (tlsCreds == null && parsed.hasMatchedOption("--tls-required")) {
            throw new UsageError("--tls-required and --no-tls-required go with --tls-creds DIR");
        }
        if (exportNames.size() > images.size()) {
            throw new UsageError("more --export-name options (" + exportNames.size() + ") than images ("
                    + images.size() + ")");
        }
        if (socket != null) {
            if (parsed.hasMatchedOption("--bind") || parsed.hasMatchedOption("--port")) {
                throw new UsageError("--socket listens on a Unix socket: it cannot be combined with --bind or --port");
            }
            if (Files.exists(socket)) {
                throw new UserError(socket + ": already exists (another server's socket? remove it first)");
            }
            return UnixDomainSocketAddress.of(socket);
        }
        if (port < 0 || port > 65535) {
            throw new UsageError("--port " + port + ": not a TCP port (0 to 65535)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new UsageError("--bind " + bind + ": no such address");
        }
    }

    private NbdExports open(List<VirtualDisk> disks, PrintWriter err, Consumer<String> log) throws IOException {
        List<NbdExport> exports = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Path overlay = write.check(source);
        for (int i = 0; i < images.size(); i++) {
            Path image = images.get(i);
            String name = i < exportNames.size() ? exportNames.get(i) : String.valueOf(image.getFileName());
            if (name.getBytes(StandardCharsets.UTF_8).length > 4096 || name.indexOf('\0') >= 0) {
                throw new UsageError("export name '" + name + "' is not valid (at most 4096 bytes, no NUL)");
            }
            if (!names.add(name)) {
                throw new UsageError("two exports would be named '" + name + "': name them with --export-name");
            }
            if (!Files.exists(image)) {
                throw new ImageException(image.toString(), "no such file");
            }
            VirtualDisk disk = WritableDisks.open(image, source.openOptions(write.readWrite), overlay, warning -> {
                err.println("vdmount: warning: " + warning);
                err.flush();
            });
            disks.add(disk);
            VirtualDisk shown = overlay == null ? disk : disk.backing().orElse(disk);
            String description = image + ", " + shown.info().format() + ", " + disk.size() + " bytes"
                    + (overlay == null ? "" : ", writes to " + overlay);
            exports.add(NbdExport.of(name, description, disk, write.writable(), log));
        }
        return new NbdExports(exports);
    }

    /** The URI a client would use: nbd[s]://host:port/name or nbd[s]+unix:///name?socket=path. */
    static String uri(SocketAddress address, String exportName, boolean tls) {
        String name = encode(exportName);
        String scheme = tls ? "nbds" : "nbd";
        if (address instanceof UnixDomainSocketAddress unix) {
            return scheme + "+unix:///" + name + "?socket=" + encode(unix.getPath().toString()).replace("%2F", "/");
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        // toUriString: IPv6 in brackets and in its short form, [::1] rather than [0:0:0:0:0:0:0:1].
        return scheme + "://" + InetAddresses.toUriString(inet.getAddress()) + ":" + inet.getPort() + "/" + name;
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
