package org.vdmount.formats.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.vdmount.formats.ImageFormat;
import org.vdmount.formats.OpenContext;
import org.vdmount.formats.Storage;
import org.vdmount.formats.VirtualDisk;

/**
 * Hyper-V VHDX images, read-only: fixed, dynamic and differencing (.avhdx) disks, 512 and 4096-byte
 * logical sectors, block sizes of 1 to 256 MiB. A log left by a crash is replayed in memory; the
 * file is never written.
 *
 * <p>References followed: Microsoft's [MS-VHDX] specification (file identifier, headers, region
 * tables, log entries and their replay, BAT and chunk ratio, metadata items, parent locator, sector
 * bitmaps); qemu's {@code block/vhdx.c} for which block states read as zeros.
 *
 * <p>{@link VhdxHeader}, {@link RegionTable} and {@link Metadata} parse the structures,
 * {@link LogReplay} replays the log into a {@link PatchedStorage}, {@link VhdxOpener} assembles the
 * disk and finds the parent, {@link VhdxDisk} maps virtual ranges to runs.
 */
public final class VhdxFormat implements ImageFormat {

    @Override
    public String name() {
        return "vhdx";
    }

    @Override
    public boolean probe(ByteBuffer head) {
        if (head.remaining() < 8) {
            return false;
        }
        byte[] sig = new byte[8];
        head.duplicate().get(sig);
        return new String(sig, StandardCharsets.ISO_8859_1).equals(VhdxOpener.SIGNATURE);
    }

    @Override
    public VirtualDisk open(Storage storage, OpenContext context) throws IOException {
        return new VhdxOpener(storage, context).open();
    }
}
