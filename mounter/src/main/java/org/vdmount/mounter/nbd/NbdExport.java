package org.vdmount.mounter.nbd;

import java.util.Objects;
import java.util.function.Consumer;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;

/**
 * One disk offered under one name.
 *
 * @param name        what clients ask for ({@code nbd://host/name})
 * @param description shown by {@code nbdinfo --list}; may be empty
 * @param gateway     the disk's request path, shared by every connection (it is thread safe)
 */
public record NbdExport(String name, String description, RequestGateway gateway) {

    public NbdExport {
        Objects.requireNonNull(name);
        Objects.requireNonNull(description);
        Objects.requireNonNull(gateway);
    }

    /**
     * An export of {@code disk}, writable by clients when {@code writable} (the disk must then be
     * writable too); failed requests are logged to {@code log} under the export's name.
     */
    public static NbdExport of(String name, String description, VirtualDisk disk, boolean writable,
            Consumer<String> log) {
        return new NbdExport(name, description,
                new RequestGateway(disk, writable, new FailureLog("export '" + name + "'", log)));
    }

    public boolean writable() {
        return gateway.capabilities().writable();
    }

    public long size() {
        return gateway.size();
    }

    /** The flags a client sees. */
    int transmissionFlags(boolean structuredReplies) {
        return NbdProtocol.transmissionFlags(gateway.capabilities(), structuredReplies);
    }
}
