package org.vdmount.mounter.cli;

import org.vdmount.mounter.transport.Transports;
import picocli.CommandLine.Option;

/** How block devices are made: the same option on attach and mount. */
final class TransportOption {

    @Option(names = "--transport", paramLabel = "NAME", defaultValue = Transports.AUTO,
            description = "How the devices are made: auto (the default: abuse if its module is loaded, else ublk "
                    + "if the kernel has it, else nbd if the kernel has it, else fuse), abuse (our kernel module), "
                    + "ublk (the kernel's ublk driver), nbd (the kernel's nbd driver) or fuse (FUSE + loop devices).")
    String name;
}
