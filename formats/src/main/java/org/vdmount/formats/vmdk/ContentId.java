package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.vdmount.formats.DiskInfo;
import org.vdmount.formats.Storage;

/**
 * The descriptor's content ID (CID), changed on the first write of each session, as VMware and
 * qemu do: a snapshot delta records its parent's CID (parentCID), so a child of this disk then sees
 * that its parent changed under it. The new CID is durable before the first write goes out.
 */
final class ContentId {
    private final Storage storage;
    private final long at;
    private final long maxBytes;
    private final DiskInfo info;
    private volatile boolean changed;

    /**
     * @param storage  the file holding the descriptor (the descriptor file, or the sparse extent
     *                 with the descriptor embedded), open for writing
     * @param at       where the descriptor starts in it
     * @param maxBytes the descriptor's room (the embedded area, or the whole file)
     * @param info     the disk's info, whose {@code cid} detail follows the change
     */
    ContentId(Storage storage, long at, long maxBytes, DiskInfo info) {
        this.storage = storage;
        this.at = at;
        this.maxBytes = maxBytes;
        this.info = info;
    }

    /** A disk without a descriptor (a bare extent) has no CID to change. */
    static ContentId none() {
        return new ContentId(null, 0, 0, null);
    }

    /** Changes the CID unless this session already did. */
    void changeOnce() throws IOException {
        if (changed) {
            return;
        }
        synchronized (this) {
            if (changed || storage == null) {
                changed = true;
                return;
            }
            int room = (int) Math.min(maxBytes, Math.max(0, storage.size() - at));
            byte[] text = new byte[room];
            storage.readFully(ByteBuffer.wrap(text), at);
            int end = 0;
            while (end < room && text[end] != 0) {
                end++;
            }
            byte[] updated = Descriptor.withNewCid(text, end, new SecureRandom());
            if (updated != null) {
                storage.writeAt(ByteBuffer.wrap(updated, 0, end), at);
                storage.flush();
                String cid = Long.toHexString(Descriptor.parse(updated, storage.name()).cid("CID"));
                info.detail("cid", cid);
            }
            changed = true;
        }
    }
}
