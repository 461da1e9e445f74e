package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.jna.LibC;

/**
 * The partition devices of a connected nbd device. The driver only marks the disk for a partition
 * scan, which the kernel carries out at the next open of the disk (udev's, usually; there may be no
 * udev), so we open it ourselves. nbd has no per-device switch to turn the scan off; for
 * --no-partscan the partitions it found are deleted again with BLKPG, as {@code partx -d} would.
 */
final class PartitionNodes {
    private static final long BLKPG = LibC.ioc(LibC.IOC_NONE, 0x12, 105, 0);
    private static final int BLKPG_DEL_PARTITION = 2;
    /** struct blkpg_ioctl_arg on LP64: int op, int flags, int datalen, (pad), void *data. */
    private static final int ARG_SIZE = 24;
    /** struct blkpg_partition: long long start, length; int pno; char devname[64], volname[64]; padded. */
    private static final int PARTITION_SIZE = 152;
    private static final int PARTITION_PNO = 16;
    private static final long NODE_WAIT_MILLIS = 10_000;
    private static final long DELETE_WAIT_MILLIS = 5_000;

    private PartitionNodes() {
    }

    /** Has the kernel read the partition table now, if it has not yet. */
    static void scan(int index) throws IOException {
        try {
            int fd = LibC.INSTANCE.open("/dev/nbd" + index, LibC.O_RDONLY | LibC.O_CLOEXEC);
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot open it to read its partition table: errno "
                    + e.getErrorCode());
        }
    }

    /** Waits for each device node to appear (devtmpfs makes them as the kernel adds partitions). */
    static void await(List<String> nodes) throws IOException {
        for (String node : nodes) {
            if (!Waits.until(() -> Files.exists(Path.of(node)), NODE_WAIT_MILLIS)) {
                throw new IOException(node + ": the partition device did not appear");
            }
        }
    }

    /** Deletes every partition device the kernel made for the disk. */
    static void deleteAll(NbdSysfs sysfs, int index) throws IOException {
        List<Integer> numbers = sysfs.partitions(index);
        if (numbers.isEmpty()) {
            return;
        }
        int fd;
        try {
            fd = LibC.INSTANCE.open("/dev/nbd" + index, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot open it: errno " + e.getErrorCode());
        }
        try (Memory arg = new Memory(ARG_SIZE); Memory partition = new Memory(PARTITION_SIZE)) {
            for (int number : numbers) {
                delete(fd, index, number, arg, partition);
            }
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** One partition; a prober (udev's blkid) may hold it open for a moment, so EBUSY is retried. */
    private static void delete(int fd, int index, int number, Memory arg, Memory partition) throws IOException {
        arg.clear();
        partition.clear();
        ByteBuffer p = partition.getByteBuffer(0, PARTITION_SIZE).order(ByteOrder.nativeOrder());
        p.putInt(PARTITION_PNO, number);
        ByteBuffer a = arg.getByteBuffer(0, ARG_SIZE).order(ByteOrder.nativeOrder());
        a.putInt(0, BLKPG_DEL_PARTITION);
        a.putInt(8, PARTITION_SIZE);
        arg.setPointer(16, partition);
        long deadline = System.currentTimeMillis() + DELETE_WAIT_MILLIS;
        while (true) {
            try {
                LibC.INSTANCE.ioctl(fd, BLKPG, arg);
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.ENXIO) {
                    return; // gone already
                }
                if (e.getErrorCode() != Errno.EBUSY || System.currentTimeMillis() > deadline) {
                    throw new IOException("/dev/nbd" + index + "p" + number + ": cannot remove the partition device: "
                            + KernelDevice.errnoText(e.getErrorCode()));
                }
            }
            Waits.pause(50);
        }
    }
}
