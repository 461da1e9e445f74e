package org.vdmount.mounter.transport;

import java.nio.file.Path;
import java.util.List;

/**
 * What to attach.
 *
 * @param id         the attachment's number, unique on this machine while it lives
 * @param workDir    a directory the transport may use for this attachment (created by the transport
 *                   if it needs it; it is removed on detach when empty)
 * @param parts      the whole disk first, then each partition (empty of partitions with --no-partscan)
 * @param threads    how many threads serve requests
 * @param index      the device number the user asked for (--index), or -1 for any
 * @param partscan   whether the user wants partition devices (false: leave them to kpartx)
 */
public record AttachRequest(int id, Path workDir, List<DiskPart> parts, int threads, int index, boolean partscan) {
    public DiskPart whole() {
        return parts.get(0);
    }
}
