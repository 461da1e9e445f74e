package org.vdmount.mounter.transport.ublk;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.vdmount.mounter.jna.LibC;
import org.vdmount.mounter.system.Errno;
import org.vdmount.mounter.system.KernelModules;
import org.vdmount.mounter.uring.IoUring;
import org.vdmount.mounter.uring.IoUringAbi;

/**
 * Device management through /dev/ublk-control: every command is an io_uring command (128-byte
 * entries) on a small ring of our own, sent one at a time. Some wait in the kernel for the queues'
 * servers (START_DEV, END_USER_RECOVERY): those have a time limit, past which the ring is closed,
 * which cancels them.
 */
final class UblkControl implements Closeable {
    /** How long a command that does not wait for servers may take. */
    private static final long COMMAND_MILLIS = 30_000;

    private final int fd;
    private final IoUring ring;
    private final Memory buffer = new Memory(Math.max(UblkAbi.Params.SIZE, UblkAbi.DevInfo.SIZE));
    private final long features;
    private boolean closed;

    private UblkControl(int fd, IoUring ring) throws IOException {
        this.fd = fd;
        this.ring = ring;
        this.features = queryFeatures();
    }

    /**
     * Opens the control device and asks the driver what it offers: a driver without that question
     * (before Linux 6.5) is refused, since every command we send is of the ioctl-encoded kind it
     * brought.
     */
    static UblkControl open() throws IOException {
        int fd;
        try {
            fd = LibC.INSTANCE.open(UblkAbi.CONTROL_DEVICE, LibC.O_RDWR | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException(UblkAbi.CONTROL_DEVICE + ": " + errnoText(e.getErrorCode())
                    + (e.getErrorCode() == Errno.ENOENT ? " (is ublk_drv loaded? modprobe ublk_drv)" : ""));
        }
        IoUring ring;
        try {
            ring = IoUring.open(4, IoUringAbi.SETUP_SQE128);
        } catch (IOException e) {
            LibC.INSTANCE.close(fd);
            throw new IOException("ublk needs io_uring: " + e.getMessage());
        }
        try {
            return new UblkControl(fd, ring);
        } catch (IOException | RuntimeException e) {
            ring.close();
            LibC.INSTANCE.close(fd);
            throw e;
        }
    }

    private long queryFeatures() throws IOException {
        buffer.clear();
        try {
            command(UblkAbi.U_CMD_GET_FEATURES, -1, Pointer.nativeValue(buffer), UblkAbi.FEATURES_LEN, 0,
                    COMMAND_MILLIS);
        } catch (UblkCommandException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                throw e;
            }
            throw new IOException("the kernel's ublk driver (Linux " + KernelModules.system().release()
                    + ") is too old for vdmount: it does not answer UBLK_U_CMD_GET_FEATURES (" + errnoText(e.errno())
                    + "), which Linux 6.5 brought");
        }
        return buffer.getLong(0);
    }

    /** UBLK_F_* the driver offers. */
    long features() {
        return features;
    }

    /** Adds a device as {@code wanted} says; returns what the driver made of it (its number, the flags it granted). */
    UblkDeviceInfo add(UblkDeviceInfo wanted) throws IOException {
        buffer.clear();
        ByteBuffer b = view();
        b.putShort(UblkAbi.DevInfo.NR_HW_QUEUES, (short) wanted.queues());
        b.putShort(UblkAbi.DevInfo.QUEUE_DEPTH, (short) wanted.depth());
        b.putInt(UblkAbi.DevInfo.MAX_IO_BUF_BYTES, wanted.maxIoBytes());
        b.putInt(UblkAbi.DevInfo.DEV_ID, wanted.id());
        b.putLong(UblkAbi.DevInfo.FLAGS, wanted.flags());
        b.putLong(UblkAbi.DevInfo.UBLKSRV_FLAGS, wanted.fingerprint());
        try {
            command(UblkAbi.U_CMD_ADD_DEV, wanted.id(), Pointer.nativeValue(buffer), UblkAbi.DevInfo.SIZE, 0,
                    COMMAND_MILLIS);
        } catch (UblkCommandException e) {
            throw new IOException("cannot add a ublk device: " + (e.errno() == Errno.EEXIST
                    ? "/dev/" + UblkAbi.DISK_PREFIX + wanted.id() + " exists already" : errnoText(e.errno())));
        }
        return info(b);
    }

    /** The device's state, as GET_DEV_INFO reports it. */
    UblkDeviceInfo info(int id) throws IOException {
        buffer.clear();
        command(UblkAbi.U_CMD_GET_DEV_INFO, id, Pointer.nativeValue(buffer), UblkAbi.DevInfo.SIZE, 0, COMMAND_MILLIS);
        return info(view());
    }

    private static UblkDeviceInfo info(ByteBuffer b) {
        return new UblkDeviceInfo(b.getInt(UblkAbi.DevInfo.DEV_ID),
                Short.toUnsignedInt(b.getShort(UblkAbi.DevInfo.NR_HW_QUEUES)),
                Short.toUnsignedInt(b.getShort(UblkAbi.DevInfo.QUEUE_DEPTH)),
                b.getInt(UblkAbi.DevInfo.MAX_IO_BUF_BYTES), b.getLong(UblkAbi.DevInfo.FLAGS),
                b.getLong(UblkAbi.DevInfo.UBLKSRV_FLAGS), Short.toUnsignedInt(b.getShort(UblkAbi.DevInfo.STATE)),
                b.getInt(UblkAbi.DevInfo.UBLKSRV_PID));
    }

    /** Sets the disk's geometry and attributes; before START_DEV only. */
    void setParams(int id, UblkParams params) throws IOException {
        buffer.clear();
        params.writeTo(view());
        try {
            command(UblkAbi.U_CMD_SET_PARAMS, id, Pointer.nativeValue(buffer), UblkAbi.Params.SIZE, 0, COMMAND_MILLIS);
        } catch (UblkCommandException e) {
            throw new IOException(disk(id) + ": the driver refused the device's parameters: " + errnoText(e.errno()));
        }
    }

    /** The disk's size in 512-byte sectors, as set by SET_PARAMS. */
    long sectors(int id) throws IOException {
        buffer.clear();
        ByteBuffer b = view();
        b.putInt(UblkAbi.Params.LEN, UblkAbi.Params.SIZE);
        command(UblkAbi.U_CMD_GET_PARAMS, id, Pointer.nativeValue(buffer), UblkAbi.Params.SIZE, 0, COMMAND_MILLIS);
        return b.getLong(UblkAbi.Params.BASIC + UblkAbi.Basic.DEV_SECTORS);
    }

    /**
     * Adds the block device, once every queue's server has fetched: /dev/ublkbN appears and the
     * kernel reads its partition table, served by them, before this returns.
     */
    void start(int id, long pid, long timeoutMillis) throws IOException {
        try {
            command(UblkAbi.U_CMD_START_DEV, id, 0, 0, pid, timeoutMillis);
        } catch (UblkCommandException e) {
            throw new IOException(disk(id) + ": cannot start: " + errnoText(e.errno()));
        }
    }

    /** Removes the block device: queued I/O fails, the servers' fetches come back aborted. */
    void stop(int id) throws IOException {
        try {
            command(UblkAbi.U_CMD_STOP_DEV, id, 0, 0, 0, COMMAND_MILLIS);
        } catch (UblkCommandException e) {
            throw new IOException(disk(id) + ": cannot stop: " + errnoText(e.errno()));
        }
    }

    /**
     * Deletes the device (stopping it first if needed). The number is free again once the server
     * has closed /dev/ublkcN: without waiting for that (DEL_DEV_ASYNC) where the driver can, since
     * a server that is stopped or stuck would hold us too; older drivers wait.
     */
    void delete(int id) throws IOException {
        try {
            command(UblkAbi.U_CMD_DEL_DEV_ASYNC, id, 0, 0, 0, COMMAND_MILLIS);
            return;
        } catch (UblkCommandException e) {
            if (e.errno() == Errno.ENODEV) {
                return;
            }
            if (e.errno() != Errno.ENOTSUP && e.errno() != Errno.EINVAL) {
                throw new IOException(disk(id) + ": cannot delete: " + errnoText(e.errno()));
            }
        }
        try {
            command(UblkAbi.U_CMD_DEL_DEV, id, 0, 0, 0, COMMAND_MILLIS);
        } catch (UblkCommandException e) {
            if (e.errno() != Errno.ENODEV) {
                throw new IOException(disk(id) + ": cannot delete: " + errnoText(e.errno()));
            }
        }
    }

    /**
     * Readies a device whose server died for a new one. EBUSY (as a {@link UblkCommandException})
     * while the driver has not yet quiesced it or the dead server's descriptors are not all closed.
     */
    void startRecovery(int id) throws IOException {
        command(UblkAbi.U_CMD_START_USER_RECOVERY, id, 0, 0, 0, COMMAND_MILLIS);
    }

    /** Once every queue of the new server has fetched: the device serves again, waiting I/O first. */
    void endRecovery(int id, long pid, long timeoutMillis) throws IOException {
        try {
            command(UblkAbi.U_CMD_END_USER_RECOVERY, id, 0, 0, pid, timeoutMillis);
        } catch (UblkCommandException e) {
            throw new IOException(disk(id) + ": cannot end its recovery: " + errnoText(e.errno()));
        }
    }

    /** One command, waited for; its result, or a {@link UblkCommandException} with the errno it failed with. */
    private int command(long op, int id, long addr, int len, long data, long timeoutMillis) throws IOException {
        if (closed) {
            throw new IOException(UblkAbi.CONTROL_DEVICE + ": closed after a command that did not finish");
        }
        int at = ring.prepare();
        ByteBuffer sqe = ring.sqes();
        sqe.put(at + IoUringAbi.Sqe.OPCODE, (byte) IoUringAbi.OP_URING_CMD);
        sqe.putInt(at + IoUringAbi.Sqe.FD, fd);
        sqe.putInt(at + IoUringAbi.Sqe.CMD_OP, (int) op);
        int cmd = at + IoUringAbi.Sqe.CMD;
        sqe.putInt(cmd + UblkAbi.CtrlCmd.DEV_ID, id);
        sqe.putShort(cmd + UblkAbi.CtrlCmd.QUEUE_ID, (short) -1);
        sqe.putShort(cmd + UblkAbi.CtrlCmd.LEN, (short) len);
        sqe.putLong(cmd + UblkAbi.CtrlCmd.ADDR, addr);
        sqe.putLong(cmd + UblkAbi.CtrlCmd.DATA, data);
        if (!ring.submitAndAwait(timeoutMillis)) {
            // Closing the ring cancels the command, which the kernel is waiting in interruptibly.
            close();
            throw new IOException(disk(id) + ": the ublk driver did not answer within " + timeoutMillis / 1000
                    + " s");
        }
        int result = ring.result(0);
        ring.consume(1);
        if (result < 0) {
            throw new UblkCommandException(-result, disk(id) + ": " + errnoText(-result));
        }
        return result;
    }

    private ByteBuffer view() {
        return buffer.getByteBuffer(0, buffer.size()).order(ByteOrder.nativeOrder());
    }

    static String disk(int id) {
        return id < 0 ? UblkAbi.CONTROL_DEVICE : "/dev/" + UblkAbi.DISK_PREFIX + id;
    }

    static String errnoText(int errno) {
        return switch (errno) {
            case Errno.ENOENT -> "no such file (is ublk_drv loaded? modprobe ublk_drv)";
            case Errno.ENODEV -> "no such ublk device";
            case Errno.EPERM, Errno.EACCES -> "operation not permitted (ublk devices need CAP_SYS_ADMIN: run as root)";
            case Errno.EBUSY -> "busy";
            default -> Errno.text(errno);
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ring.close();
        LibC.INSTANCE.close(fd);
        buffer.close();
    }
}
