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
 */
public record AttachRequest(int id, Path workDir, List<DiskPart> parts, int threads) {
    public DiskPart whole() {
        return parts.get(0);
    }
}
