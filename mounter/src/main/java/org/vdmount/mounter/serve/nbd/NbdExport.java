package org.vdmount.mounter.serve.nbd;

import static org.vdmount.mounter.serve.nbd.NbdProtocol.*;

import java.util.Objects;
import org.vdmount.formats.VirtualDisk;

/**
 * One disk offered under one name.
 *
 * @param name        what clients ask for ({@code nbd://host/name})
 * @param description shown by {@code nbdinfo --list}; may be empty
 * @param disk        the bytes served; shared by every connection (it is thread safe)
 * @param writable    whether clients may write (the disk must then be writable too)
 */
public record NbdExport(String name, String description, VirtualDisk disk, boolean writable) {

    public NbdExport {
        Objects.requireNonNull(name);
        Objects.requireNonNull(description);
        Objects.requireNonNull(disk);
        if (writable && !disk.writable()) {
            throw new IllegalArgumentException("export " + name + ": the disk is not writable");
        }
    }

    /** The flags a client sees; don't-fragment only makes sense once structured replies are on. */
    int transmissionFlags(boolean structuredReplies) {
        int flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH;
        if (structuredReplies) {
            flags |= TFLAG_SEND_DF;
        }
        if (writable) {
            flags |= TFLAG_SEND_FUA | TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES;
        } else {
            // Nothing changes under a reader, so any connection sees what any other sees.
            flags |= TFLAG_READ_ONLY | TFLAG_CAN_MULTI_CONN;
        }
        return flags;
    }
}
