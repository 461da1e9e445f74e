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

    /** Waits for each device node to appear (devtmpfs makes them as the kernel adds partitions). */
    static void await(List<String> nodes) throws IOException {
        PartitionDevices.await(nodes);
    }

    /** Deletes every partition device the kernel made for the disk. */
    static void deleteAll(NbdSysfs sysfs, int index) throws IOException {
        PartitionDevices.delete("/dev/nbd" + index, sysfs.partitions(index));
    }
}
