package org.vdmount.mounter.transport.nbd;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.util.List;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.transport.PartitionDevices;

/**
 * The partition devices of a connected nbd device. The driver only marks the disk for a partition
 * scan, which the kernel carries out at the next open of the disk (udev's, usually; there may be no
 * udev), so we open it ourselves. nbd has no per-device switch to turn the scan off; for
 * --no-partscan the partitions it found are deleted again ({@link PartitionDevices}).
 */
final class PartitionNodes {
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

    /** BLKRRPART: read the partition table again. */
    private static final long BLKRRPART = LibC.ioc(LibC.IOC_NONE, 0x12, 95, 0);

    /**
     * Has the kernel read the partition table again (BLKRRPART): for a scan that failed, which a
     * second open does not repeat. Refused (EBUSY) while a partition is in use; that is left as is.
     */
    static void rescan(int index) throws IOException {
        int fd;
        try {
            fd = LibC.INSTANCE.open("/dev/nbd" + index, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("/dev/nbd" + index + ": cannot open it to read its partition table: errno "
                    + e.getErrorCode());
        }
        try {
            LibC.INSTANCE.ioctl(fd, BLKRRPART, 0L);
        } catch (LastErrorException e) {
            // EBUSY: something holds a partition open; what the kernel has stays
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** Waits for each device node to appear (devtmpfs makes them as the kernel adds partitions). */
    static void await(List<String> nodes) throws IOException {
        PartitionDevices.await(nodes);
    }

    /** Deletes every partition device the kernel made for the disk. */
    static void deleteAll(NbdSysfs sysfs, int index) throws IOException {
        PartitionDevices.delete("/dev/nbd" + index, sysfs.partitions(index));
    }
}
