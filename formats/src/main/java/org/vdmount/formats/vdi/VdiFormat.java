package org.vdmount.formats.vdi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * VirtualBox VDI images, read-only: dynamic, static and differencing images, header versions 1.1
 * and 0.
 *
 * <p>References followed: VirtualBox's VDI core header (VDICore.h: pre-header, header versions 0
 * and 1, block map entries "free" and "zero"); qemu's {@code block/vdi.c} for what qemu reads (odd
 * disk sizes rounded up to a sector). A differencing image's parent is found by its UUID, the only
 * trace of it a VDI keeps.
 *
 * <p>{@link VdiHeader} parses the header, {@link VdiOpener} checks it and finds the parent,
 * {@link VdiDisk} maps virtual ranges to runs.
 */
public final class VdiFormat implements ImageFormat {

    @Override
    public String name() {
        return "vdi";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        return head.remaining() >= 72
                && head.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(head.position() + 64) == VdiHeader.SIGNATURE;
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new VdiOpener(storage, context).open();
    }
}
