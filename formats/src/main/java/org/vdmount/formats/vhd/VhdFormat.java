package org.vdmount.formats.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.ProbeBytes;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * Virtual PC / Hyper-V VHD images (qemu's "vpc"), read-only: fixed, dynamic and differencing disks.
 *
 * <p>References followed: Microsoft's "Virtual Hard Disk Image Format Specification" (footer,
 * dynamic disk header, parent locators, BAT, sector bitmaps); qemu's {@code block/vpc.c} for the
 * rules that decide what qemu reads, so that vdmount reads the same bytes: the size taken from the
 * CHS geometry or the current-size field by creator application, the 2040 GiB limit, and dynamic
 * disks read without their sector bitmaps.
 *
 * <p>{@link VhdFooter} and {@link DynamicHeader} parse the structures, {@link VhdOpener} checks them
 * and finds the parent, {@link VhdDisk} maps virtual ranges to runs.
 */
public final class VhdFormat implements ImageFormat {

    @Override
    public String name() {
        return "vhd";
    }

    @Override
    public List<String> aliases() {
        return List.of("vpc");
    }

    @Override
    public boolean probe(ByteBuffer head) {
        return VhdFooter.hasCookie(head.slice());
    }

    /** A dynamic disk starts with a footer copy; a fixed one has its footer only at the end. */
    @Override
    public boolean probe(ProbeBytes bytes) {
        return probe(bytes.head().duplicate()) || VhdFooter.hasCookie(bytes.tail().slice());
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new VhdOpener(storage, context).open();
    }
}
