package org.vdmount.formats.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * VMware virtual disks: text descriptors (stand-alone or embedded), FLAT/VMFS, ZERO and NOACCESS
 * extents, hosted sparse extents (KDMV v1-3, streamOptimized with compressed grains and markers),
 * COWD (vmfsSparse) and seSparse extents, and snapshot chains through {@code parentFileNameHint}.
 * Opened for writing, hosted sparse extents (not streamOptimized) and FLAT/VMFS extents are written
 * in place ({@link GrainWriter}, {@link SimpleExtent}) and the CID changes ({@link ContentId}); the
 * other kinds are refused by name.
 *
 * <p>References followed: VMware "Virtual Disk Format 5.0" technical note (descriptor grammar,
 * hosted sparse header, grain directory and tables, stream-optimized markers and footer); QEMU's
 * {@code block/vmdk.c} documentation of COWD and seSparse layouts (as public descriptions of the
 * on-disk structures, not as code), and for writing its behaviour: grains appended at the end of the
 * file, the redundant grain tables updated with the primary ones, a new CID on the first write of
 * each open; RFC 1950/1951 for the zlib-wrapped deflate of compressed grains.
 */
public final class VmdkFormat implements ImageFormat {

    @Override
    public String name() {
        return "vmdk";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        ByteBuffer b = head.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() >= 4) {
            int magic = b.getInt(b.position());
            if (magic == SparseHeader.MAGIC || magic == CowdExtent.MAGIC) {
                return true;
            }
        }
        if (b.remaining() >= 16 && b.getLong(b.position()) == SeSparseExtent.MAGIC
                && b.getLong(b.position() + 8) == SeSparseExtent.VERSION) {
            return true;
        }
        return looksLikeDescriptor(b);
    }

    /** A text file whose first lines are the descriptor's header comment or its createType key. */
    static boolean looksLikeDescriptor(ByteBuffer b) {
        int n = Math.min(b.remaining(), 4096);
        byte[] bytes = new byte[n];
        b.duplicate().get(bytes);
        // The text ends at the first NUL: qemu rewrites descriptors in sector-sized buffers, which
        // leaves NUL padding, or the tail of a longer former text, after it.
        int end = 0;
        while (end < n && bytes[end] != 0) {
            end++;
        }
        for (int i = 0; i < end; i++) {
            int c = bytes[i] & 0xff;
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
                return false;
            }
        }
        String text = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
        if (text.startsWith("\u00ef\u00bb\u00bf")) {
            text = text.substring(3);
        }
        for (String line : text.split("\r\n|\n|\r")) {
            String l = line.strip();
            if (l.equalsIgnoreCase("# Disk DescriptorFile")) {
                return true;
            }
            if (l.startsWith("createType") && l.substring("createType".length()).strip().startsWith("=")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new VmdkOpener(storage, context).open();
    }
}
