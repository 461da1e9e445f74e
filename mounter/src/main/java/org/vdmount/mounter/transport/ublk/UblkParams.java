package org.vdmount.mounter.transport.ublk;

import java.nio.ByteBuffer;

/**
 * What the block device looks like (struct ublk_params): its size, 512-byte logical blocks on
 * 4 KiB physical ones, the largest request, and, for a writable disk, a write cache (so that flushes
 * and FUA writes reach us) and discard and write-zeroes. A read-only disk is read-only to the kernel
 * too ({@code blockdev --getro} says 1, writes fail before they reach us).
 */
record UblkParams(long sectors, int maxSectors, boolean writable) {
    /** Discard and write-zeroes per request at most: 1 GiB, in sectors. */
    static final int MAX_DISCARD_SECTORS = 1 << 21;

    void writeTo(ByteBuffer b) {
        int types = UblkAbi.PARAM_TYPE_BASIC | (writable ? UblkAbi.PARAM_TYPE_DISCARD : 0);
        b.putInt(UblkAbi.Params.LEN, UblkAbi.Params.SIZE);
        b.putInt(UblkAbi.Params.TYPES, types);
        int basic = UblkAbi.Params.BASIC;
        b.putInt(basic + UblkAbi.Basic.ATTRS, writable
                ? UblkAbi.ATTR_VOLATILE_CACHE | UblkAbi.ATTR_FUA : UblkAbi.ATTR_READ_ONLY);
        b.put(basic + UblkAbi.Basic.LOGICAL_BS_SHIFT, (byte) 9);
        b.put(basic + UblkAbi.Basic.PHYSICAL_BS_SHIFT, (byte) 12);
        b.put(basic + UblkAbi.Basic.IO_OPT_SHIFT, (byte) 12);
        b.put(basic + UblkAbi.Basic.IO_MIN_SHIFT, (byte) 9);
        b.putInt(basic + UblkAbi.Basic.MAX_SECTORS, maxSectors);
        b.putLong(basic + UblkAbi.Basic.DEV_SECTORS, sectors);
        if (writable) {
            int discard = UblkAbi.Params.DISCARD;
            b.putInt(discard + UblkAbi.Discard.DISCARD_GRANULARITY, 4096);
            b.putInt(discard + UblkAbi.Discard.MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS);
            b.putInt(discard + UblkAbi.Discard.MAX_WRITE_ZEROES_SECTORS, MAX_DISCARD_SECTORS);
            b.putShort(discard + UblkAbi.Discard.MAX_DISCARD_SEGMENTS, (short) 1);
        }
    }
}
