package org.vdmount.mounter.transport;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.system.Errno;

/**
 * The partition devices the kernel made for a disk, for the drivers that have no switch to turn
 * their partition scan off (nbd, ublk): with --no-partscan, those the kernel found are deleted
 * again with BLKPG, as {@code partx -d} would, and kpartx can make its own.
 */
public final class PartitionDevices {
    private static final long BLKPG = LibC.ioc(LibC.IOC_NONE, 0x12, 105, 0);
    private static final int BLKPG_DEL_PARTITION = 2;
    /** struct blkpg_ioctl_arg on LP64: int op, int flags, int datalen, (pad), void *data. */
    private static final int ARG_SIZE = 24;
    /** struct blkpg_partition: long long start, length; int pno; char devname[64], volname[64]; padded. */
    private static final int PARTITION_SIZE = 152;
    private static final int PARTITION_PNO = 16;
    private static final long DELETE_WAIT_MILLIS = 5_000;
    private static final long NODE_WAIT_MILLIS = 10_000;

    private PartitionDevices() {
    }

    /** The partitions sysfs shows for disk {@code name} (e.g. "ublkb0" has ublkb0p1...), by number. */
    public static List<Integer> listed(Path sysBlock, String name) throws IOException {
        List<Integer> found = new ArrayList<>();
        Path disk = sysBlock.resolve(name);
        if (!Files.isDirectory(disk)) {
            return found;
        }
        String prefix = name + "p";
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(disk, prefix + "*")) {
            for (Path entry : entries) {
                String number = entry.getFileName().toString().substring(prefix.length());
                if (number.matches("\\d{1,4}")) {
                    found.add(Integer.parseInt(number));
                }
            }
        }
        found.sort(null);
        return found;
    }

    /** Deletes partitions {@code numbers} of the disk whose node is {@code disk} (/dev/nbd0, /dev/ublkb0). */
    public static void delete(String disk, List<Integer> numbers) throws IOException {
        if (numbers.isEmpty()) {
            return;
        }
        int fd;
        try {
            fd = LibC.INSTANCE.open(disk, LibC.O_RDONLY | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException(disk + ": cannot open it: " + Errno.text(e.getErrorCode()));
        }
        try (Memory arg = new Memory(ARG_SIZE); Memory partition = new Memory(PARTITION_SIZE)) {
            for (int number : numbers) {
                delete(fd, disk, number, arg, partition);
            }
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** One partition; a prober (udev's blkid) may hold it open for a moment, so EBUSY is retried. */
    private static void delete(int fd, String disk, int number, Memory arg, Memory partition) throws IOException {
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
                    throw new IOException(disk + "p" + number + ": cannot remove the partition device: "
                            + Errno.text(e.getErrorCode()));
                }
            }
            Waits.pause(50);
        }
    }

    /** Waits for each device node to appear (devtmpfs makes them as the kernel adds partitions). */
    public static void await(List<String> nodes) throws IOException {
        for (String node : nodes) {
            if (!Waits.until(() -> Files.exists(Path.of(node)), NODE_WAIT_MILLIS)) {
                throw new IOException(node + ": the partition device did not appear");
            }
        }
    }
}
