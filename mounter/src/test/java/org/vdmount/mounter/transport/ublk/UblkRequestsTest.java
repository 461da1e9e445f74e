package org.vdmount.mounter.transport.ublk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vdmount.formats.Images;
import org.vdmount.formats.OpenOptions;
import org.vdmount.formats.VirtualDisk;
import org.vdmount.mounter.gateway.FailureLog;
import org.vdmount.mounter.gateway.RequestGateway;
import org.vdmount.mounter.system.Errno;

/** Descriptors as the driver writes them, served against a raw image, with the results a commit reports. */
class UblkRequestsTest {
    private static final int MAX_IO = 64 * 1024;

    @TempDir
    Path dir;

    private final ByteBuffer descriptors = ByteBuffer.allocateDirect(8 * UblkAbi.IoDesc.SIZE)
            .order(ByteOrder.nativeOrder());
    private final ByteBuffer data = ByteBuffer.allocateDirect(MAX_IO).order(ByteOrder.nativeOrder());
    private final List<String> logged = new ArrayList<>();

    private int describe(int tag, int op, int flags, long sector, long sectors) {
        int at = tag * UblkAbi.IoDesc.SIZE;
        descriptors.putInt(at + UblkAbi.IoDesc.OP_FLAGS, op | flags);
        descriptors.putInt(at + UblkAbi.IoDesc.NR_SECTORS, (int) sectors);
        descriptors.putLong(at + UblkAbi.IoDesc.START_SECTOR, sector);
        return at;
    }

    private VirtualDisk raw(byte[] bytes, boolean writable) throws IOException {
        Path image = Files.write(dir.resolve("disk.raw"), bytes);
        return Images.open(image, new OpenOptions(null, 0, writable), w -> { });
    }

    private UblkRequests requests(VirtualDisk disk) {
        return new UblkRequests(RequestGateway.of(disk, new FailureLog("/dev/ublkb0", logged::add)), MAX_IO);
    }

    @Test
    void readsFillTheBufferAndReportTheirLength() throws IOException {
        byte[] bytes = new byte[1 << 20];
        new Random(3).nextBytes(bytes);
        try (VirtualDisk disk = raw(bytes, false)) {
            UblkRequests r = requests(disk);
            int at = describe(2, UblkAbi.IO_OP_READ, 0, 8, 16);
            assertEquals(8192, r.serve(descriptors, at, data));
            byte[] got = new byte[8192];
            data.get(0, got);
            assertArrayEquals(Arrays.copyOfRange(bytes, 4096, 4096 + 8192), got);
        }
    }

    @Test
    void aReadOnlyDiskRefusesChangesWithErofs() throws IOException {
        try (VirtualDisk disk = raw(new byte[1 << 20], false)) {
            UblkRequests r = requests(disk);
            assertEquals(-Errno.EROFS, r.serve(descriptors, describe(0, UblkAbi.IO_OP_WRITE, 0, 0, 8), data));
            assertEquals(-Errno.EROFS, r.serve(descriptors, describe(0, UblkAbi.IO_OP_DISCARD, 0, 0, 8), data));
            assertEquals(-Errno.EROFS, r.serve(descriptors, describe(0, UblkAbi.IO_OP_WRITE_ZEROES, 0, 0, 8), data));
            assertEquals(0, r.serve(descriptors, describe(0, UblkAbi.IO_OP_FLUSH, 0, 0, 0), data));
        }
    }

    @Test
    void writesFuaWritesZeroesAndFlushesReachTheImage() throws IOException {
        byte[] bytes = new byte[1 << 20];
        Arrays.fill(bytes, (byte) 0x55);
        try (VirtualDisk disk = raw(bytes, true)) {
            UblkRequests r = requests(disk);
            for (int i = 0; i < 4096; i++) {
                data.put(i, (byte) i);
            }
            assertEquals(4096, r.serve(descriptors, describe(1, UblkAbi.IO_OP_WRITE, UblkAbi.IO_F_FUA, 16, 8), data));
            assertEquals(0, r.serve(descriptors, describe(1, UblkAbi.IO_OP_WRITE_ZEROES, 0, 32, 8), data));
            assertEquals(0, r.serve(descriptors, describe(1, UblkAbi.IO_OP_FLUSH, 0, 0, 0), data));
        }
        byte[] after = Files.readAllBytes(dir.resolve("disk.raw"));
        for (int i = 0; i < 4096; i++) {
            assertEquals((byte) i, after[8192 + i]);
        }
        for (int i = 16384; i < 16384 + 4096; i++) {
            assertEquals(0, after[i]);
        }
        assertEquals(0x55, after[0]);
        assertEquals(0x55, after[16384 + 4096]);
    }

    @Test
    void badRequestsGetAnErrnoNotAnException() throws IOException {
        try (VirtualDisk disk = raw(new byte[1 << 20], false)) {
            UblkRequests r = requests(disk);
            // Past the end of the disk, longer than a buffer, an operation we do not have.
            assertEquals(-Errno.EINVAL, r.serve(descriptors, describe(0, UblkAbi.IO_OP_READ, 0, 2047, 8), data));
            assertEquals(-Errno.EINVAL,
                    r.serve(descriptors, describe(0, UblkAbi.IO_OP_READ, 0, 0, MAX_IO / 512 + 8), data));
            assertEquals(-Errno.ENOTSUP, r.serve(descriptors, describe(0, UblkAbi.IO_OP_WRITE_SAME, 0, 0, 8), data));
            assertEquals(-Errno.ENOTSUP, r.serve(descriptors, describe(0, 18, 0, 0, 1), data));
        }
    }
}
