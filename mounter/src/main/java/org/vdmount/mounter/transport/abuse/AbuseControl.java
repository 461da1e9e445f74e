package org.vdmount.mounter.transport.abuse;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.jna.LibC;

/** Device management through /dev/abctl: add, inspect, describe, reset and remove abuse devices. */
public final class AbuseControl implements Closeable {
    private final int fd;

    private AbuseControl(int fd) {
        this.fd = fd;
    }

    /** Whether the abuse module is loaded here (its control device exists). */
    public static boolean available() {
        return Files.exists(Path.of(AbuseAbi.CONTROL_DEVICE));
    }

    /**
     * Opens the control device and checks that the loaded module speaks this server's interface: a
     * module built from an older checkout is refused with what to do about it.
     */
    public static AbuseControl open() throws IOException {
        AbuseControl control;
        try {
            control = new AbuseControl(LibC.INSTANCE.open(AbuseAbi.CONTROL_DEVICE, LibC.O_RDWR | LibC.O_CLOEXEC));
        } catch (LastErrorException e) {
            throw new IOException(AbuseAbi.CONTROL_DEVICE + ": " + errnoText(e.getErrorCode())
                    + " (is the abuse module loaded? see kmod/README.md)");
        }
        long features = control.features();
        if ((features & AbuseAbi.NEEDED_FEATURES) != AbuseAbi.NEEDED_FEATURES) {
            control.close();
            throw new IOException(AbuseAbi.CONTROL_DEVICE + ": the loaded abuse module is older than this vdmount "
                    + "(rebuild it with 'make -C kmod' and reload it: 'rmmod abuse; insmod kmod/abuse.ko')");
        }
        return control;
    }

    /** ABUSE_GET_FEATURES; 0 for a module that predates it. */
    long features() {
        try (Memory mem = new Memory(8)) {
            mem.clear();
            try {
                LibC.INSTANCE.ioctl(fd, AbuseAbi.GET_FEATURES, mem);
            } catch (LastErrorException e) {
                return 0;
            }
            return mem.getLong(0);
        }
    }

    public AbuseDeviceStatus add(AbuseDeviceConfig config) throws IOException {
        try (Memory mem = new Memory(AbuseAbi.DevInfo.SIZE)) {
            mem.clear();
            ByteBuffer b = view(mem);
            b.putInt(AbuseAbi.DevInfo.INDEX, config.index());
            b.putInt(AbuseAbi.DevInfo.FLAGS, config.flags());
            b.putLong(AbuseAbi.DevInfo.DEV_SIZE, config.size());
            b.putInt(AbuseAbi.DevInfo.BLOCK_SIZE, config.blockSize());
            b.putInt(AbuseAbi.DevInfo.MAX_REQ_BYTES, config.maxReqBytes());
            b.putInt(AbuseAbi.DevInfo.QUEUE_DEPTH, config.queueDepth());
            b.putInt(AbuseAbi.DevInfo.NR_HW_QUEUES, config.hwQueues());
            b.putInt(AbuseAbi.DevInfo.TIMEOUT, config.timeoutSeconds() == null ? 0 : config.timeoutSeconds());
            b.putInt(AbuseAbi.DevInfo.IO_TIMEOUT, config.ioTimeoutSeconds() == null ? 0 : config.ioTimeoutSeconds());
            ioctl(AbuseAbi.CTL_ADD, mem, "add a device");
            return status(b);
        }
    }

    public AbuseDeviceStatus status(int index) throws IOException {
        try (Memory mem = new Memory(AbuseAbi.DevInfo.SIZE)) {
            mem.clear();
            ByteBuffer b = view(mem);
            b.putInt(AbuseAbi.DevInfo.INDEX, index);
            ioctl(AbuseAbi.CTL_GET_STATUS, mem, "status of " + AbuseAbi.DISK_PREFIX + index);
            return status(b);
        }
    }

    /** The device with the lowest number at or above {@code index}, if any: how every device is listed. */
    public Optional<AbuseDeviceStatus> next(int index) throws IOException {
        try (Memory mem = new Memory(AbuseAbi.DevInfo.SIZE)) {
            mem.clear();
            ByteBuffer b = view(mem);
            b.putInt(AbuseAbi.DevInfo.INDEX, index);
            try {
                LibC.INSTANCE.ioctl(fd, AbuseAbi.CTL_NEXT, mem);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.ENODEV) {
                    return Optional.empty();
                }
                throw new IOException(AbuseAbi.CONTROL_DEVICE + ": cannot list devices: " + errnoText(e.getErrorCode()));
            }
            return Optional.of(status(b));
        }
    }

    /**
     * Adds the device's disk, once its servers are attached: /dev/abuseN appears and the kernel
     * reads its partition table, served by them, before this returns. Nothing to do for a device
     * that already has its disk (a takeover).
     */
    public void start(int index) throws IOException {
        try {
            LibC.INSTANCE.ioctl(fd, AbuseAbi.CTL_START, index);
        } catch (LastErrorException e) {
            throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": cannot start: "
                    + (e.getErrorCode() == Errno.ENOTCONN ? "no server thread is attached" : errnoText(e.getErrorCode())));
        }
    }

    /** The device's backing description (see {@link #setBacking}). */
    public String backing(int index) throws IOException {
        try (Memory mem = new Memory(AbuseAbi.Backing.SIZE)) {
            mem.clear();
            ByteBuffer b = view(mem);
            b.putInt(AbuseAbi.Backing.INDEX, index);
            ioctl(AbuseAbi.CTL_GET_BACKING, mem, "read the description of " + AbuseAbi.DISK_PREFIX + index);
            return mem.getString(AbuseAbi.Backing.TEXT, StandardCharsets.UTF_8.name());
        }
    }

    /** The text shown in /sys/block/abuseN/abuse/backing (the image path): how orphans are found. */
    public void setBacking(int index, String text) throws IOException {
        try (Memory mem = new Memory(AbuseAbi.Backing.SIZE)) {
            mem.clear();
            ByteBuffer b = view(mem);
            b.putInt(AbuseAbi.Backing.INDEX, index);
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            b.position(AbuseAbi.Backing.TEXT).put(bytes, 0, Math.min(bytes.length, AbuseAbi.BACKING_LEN - 1));
            ioctl(AbuseAbi.CTL_SET_BACKING, mem, "describe " + AbuseAbi.DISK_PREFIX + index);
        }
    }

    public void remove(int index) throws IOException {
        try {
            LibC.INSTANCE.ioctl(fd, AbuseAbi.CTL_REMOVE, index);
        } catch (LastErrorException e) {
            throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": cannot remove: "
                    + (e.getErrorCode() == Errno.EBUSY ? "it is open or mounted" : errnoText(e.getErrorCode())));
        }
    }

    /** Fails every queued and in-flight request of the device with EIO. */
    public void reset(int index) throws IOException {
        try {
            LibC.INSTANCE.ioctl(fd, AbuseAbi.CTL_RESET, index);
        } catch (LastErrorException e) {
            throw new IOException("/dev/" + AbuseAbi.DISK_PREFIX + index + ": cannot reset: " + errnoText(e.getErrorCode()));
        }
    }

    private void ioctl(long request, Memory arg, String what) throws IOException {
        try {
            LibC.INSTANCE.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            throw new IOException(AbuseAbi.CONTROL_DEVICE + ": cannot " + what + ": " + errnoText(e.getErrorCode()));
        }
    }

    private static AbuseDeviceStatus status(ByteBuffer b) {
        return new AbuseDeviceStatus(b.getInt(AbuseAbi.DevInfo.INDEX), b.getInt(AbuseAbi.DevInfo.FLAGS),
                b.getLong(AbuseAbi.DevInfo.DEV_SIZE), b.getInt(AbuseAbi.DevInfo.BLOCK_SIZE),
                b.getInt(AbuseAbi.DevInfo.MAX_REQ_BYTES), b.getInt(AbuseAbi.DevInfo.QUEUE_DEPTH),
                b.getInt(AbuseAbi.DevInfo.NR_HW_QUEUES), b.getInt(AbuseAbi.DevInfo.TIMEOUT),
                b.getInt(AbuseAbi.DevInfo.IO_TIMEOUT), b.getInt(AbuseAbi.DevInfo.STATE),
                b.getInt(AbuseAbi.DevInfo.NR_SERVERS), b.getInt(AbuseAbi.DevInfo.QUEUED),
                b.getInt(AbuseAbi.DevInfo.INFLIGHT), b.getInt(AbuseAbi.DevInfo.HELD),
                b.getInt(AbuseAbi.DevInfo.SERVER_PID), b.getLong(AbuseAbi.DevInfo.ERRORS),
                b.getLong(AbuseAbi.DevInfo.TIMEOUTS));
    }

    static ByteBuffer view(Memory mem) {
        return mem.getByteBuffer(0, mem.size()).order(ByteOrder.nativeOrder());
    }

    static String errnoText(int errno) {
        return switch (errno) {
            case Errno.ENOENT -> "no such device (is the abuse module loaded?)";
            case Errno.ENODEV, Errno.ENXIO -> "no such abuse device";
            case Errno.EPERM -> "operation not permitted (the abuse module needs CAP_SYS_ADMIN: run as root)";
            case Errno.ENOSPC -> "no free device";
            default -> Errno.text(errno);
        };
    }

    @Override
    public void close() {
        LibC.INSTANCE.close(fd);
    }
}
