package org.vdmount.mounter.transport;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.vdmount.mounter.util.UsageError;
import org.vdmount.mounter.util.UserError;
import org.vdmount.mounter.transport.abuse.AbuseTransport;
import org.vdmount.mounter.transport.fuse.FuseTransport;
import org.vdmount.mounter.transport.nbd.NbdTransport;
import org.vdmount.mounter.transport.ublk.UblkTransport;

/** The transports this build has, and the choice among them. */
public final class Transports {
    public static final String AUTO = "auto";

    /**
     * In order of preference for {@code --transport auto}: the abuse module (fastest, real block
     * devices with partitions), then the kernel's ublk driver (Linux 6.5 and newer, loaded on
     * demand; real block devices with partitions, and crash takeover like abuse's, with no module
     * of ours), then the kernel's nbd driver (in most distribution kernels, loaded on demand;
     * partitions too), then FUSE + loop (works without any module, in containers).
     */
    private static final List<Transport> ALL = List.of(
            new AbuseTransport(),
            new UblkTransport(),
            new NbdTransport(),
            new FuseTransport());

    private Transports() {
    }

    public static List<Transport> all() {
        return ALL;
    }

    public static Optional<Transport> byName(String name) {
        return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** The transport {@code --transport name} asks for; a UserError saying why when it cannot be used. */
    public static Transport choose(String name) {
        if (name == null || name.equals(AUTO)) {
            for (Transport t : ALL) {
                if (t.availability().usable()) {
                    return t;
                }
            }
            throw new UserError("no transport is usable on this machine: " + ALL.stream()
                    .map(t -> t.name() + ": " + t.availability().reason())
                    .collect(Collectors.joining("; ")));
        }
        Transport t = byName(name).orElseThrow(() -> new UsageError("unknown transport '" + name
                + "' (this build has: " + AUTO + ", "
                + ALL.stream().map(Transport::name).collect(Collectors.joining(", ")) + ")"));
        Availability a = t.availability();
        if (!a.usable()) {
            throw new UserError("transport " + t.name() + " is unavailable: " + a.reason());
        }
        return t;
    }
}
