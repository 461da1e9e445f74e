package org.vdmount.formats.parallels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * Parallels images, read-only: an expanding image (.hdd, .hds) alone, or a bundle (a .hdd
 * directory) through its DiskDescriptor.xml, with its storages and snapshots.
 *
 * <p>References followed: qemu's {@code docs/interop/parallels.txt} and {@code block/parallels.c}
 * (header, the two magics and their BAT units, the 32-bit size of the older one), and the
 * DiskDescriptor.xml that Parallels Desktop writes (storages, images, snapshot tree), as libyal's
 * libphdi documents it.
 */
public final class ParallelsFormat implements ImageFormat {

    @Override
    public String name() {
        return "parallels";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        if (ParallelsHeader.hasMagic(head)) {
            return true;
        }
        int n = Math.min(head.remaining(), 1024);
        byte[] start = new byte[n];
        head.duplicate().get(start);
        String text = new String(start, StandardCharsets.ISO_8859_1);
        return text.stripLeading().startsWith("<?xml") && text.contains("<Parallels_disk_image");
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new ParallelsOpener(storage, context).open();
    }
}
