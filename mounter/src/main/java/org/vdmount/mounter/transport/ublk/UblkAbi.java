package org.vdmount.mounter.transport.ublk;

import static org.vdmount.mounter.jna.LibC.IOC_READ;
import static org.vdmount.mounter.jna.LibC.IOC_WRITE;
import static org.vdmount.mounter.jna.LibC.ioc;

/**
 * The Java mirror of Linux's include/uapi/linux/ublk_cmd.h: command numbers (the ioctl-encoded
 * ones; the legacy plain numbers are not used), feature and attribute bits, and the byte offset of
 * every structure field. UblkAbiTest compiles a C program against the kernel's header and checks
 * each number here.
 */
public final class UblkAbi {
    public static final String CONTROL_DEVICE = "/dev/ublk-control";
    /** /dev/ublkcN: the server's side of device N (descriptors, commands). */
    public static final String CHAR_PREFIX = "ublkc";
    /** /dev/ublkbN: the block device; its partitions are ublkbNpM. */
    public static final String DISK_PREFIX = "ublkb";

    public static final int MAX_QUEUE_DEPTH = 4096;
    public static final int MAX_NR_QUEUES = 4096;
    public static final int FEATURES_LEN = 8;

    /** Where the descriptor area of queue q is mapped from /dev/ublkcN: CMD_BUF_OFFSET + q * max area. */
    public static final long CMD_BUF_OFFSET = 0;
    /** With USER_COPY: a request's data is read and written at IO_BUF_OFFSET + (q << QID_OFF) + (tag << TAG_OFF). */
    public static final long IO_BUF_OFFSET = 0x80000000L;
    public static final int IO_BUF_BITS = 25;
    public static final int TAG_OFF = 25;
    public static final int TAG_BITS = 16;
    public static final int QID_OFF = 41;
    public static final int QID_BITS = 12;

    /** UBLK_F_* feature bits: asked for in ADD_DEV's dev_info.flags, offered by GET_FEATURES. */
    public static final long F_SUPPORT_ZERO_COPY = 1L;
    public static final long F_URING_CMD_COMP_IN_TASK = 1L << 1;
    public static final long F_NEED_GET_DATA = 1L << 2;
    public static final long F_USER_RECOVERY = 1L << 3;
    public static final long F_USER_RECOVERY_REISSUE = 1L << 4;
    public static final long F_UNPRIVILEGED_DEV = 1L << 5;
    public static final long F_CMD_IOCTL_ENCODE = 1L << 6;
    public static final long F_USER_COPY = 1L << 7;
    public static final long F_ZONED = 1L << 8;

    /** dev_info.state. */
    public static final int S_DEV_DEAD = 0;
    public static final int S_DEV_LIVE = 1;
    public static final int S_DEV_QUIESCED = 2;

    /** The low 8 bits of an I/O descriptor's op_flags. */
    public static final int IO_OP_READ = 0;
    public static final int IO_OP_WRITE = 1;
    public static final int IO_OP_FLUSH = 2;
    public static final int IO_OP_DISCARD = 3;
    public static final int IO_OP_WRITE_SAME = 4;
    public static final int IO_OP_WRITE_ZEROES = 5;

    /** The rest of op_flags: request flags. */
    public static final int IO_F_FUA = 1 << 13;
    public static final int IO_F_NOUNMAP = 1 << 15;

    /** A fetch command's completion: a request is ready in the descriptor of that tag. */
    public static final int IO_RES_OK = 0;
    public static final int IO_RES_NEED_GET_DATA = 1;
    /** A fetch command's completion: the device is going away, this tag is done (-ENODEV). */
    public static final int IO_RES_ABORT = -19;

    /** ublk_param_basic.attrs. */
    public static final int ATTR_READ_ONLY = 1;
    public static final int ATTR_ROTATIONAL = 1 << 1;
    public static final int ATTR_VOLATILE_CACHE = 1 << 2;
    public static final int ATTR_FUA = 1 << 3;

    /** ublk_params.types. */
    public static final int PARAM_TYPE_BASIC = 1;
    public static final int PARAM_TYPE_DISCARD = 1 << 1;
    public static final int PARAM_TYPE_DEVT = 1 << 2;

    /** struct ublksrv_ctrl_cmd: the command area of a control submission (needs 128-byte entries). */
    public static final class CtrlCmd {
        public static final int SIZE = 32;
        public static final int DEV_ID = 0;
        public static final int QUEUE_ID = 4;
        public static final int LEN = 6;
        public static final int ADDR = 8;
        public static final int DATA = 16;
        public static final int DEV_PATH_LEN = 24;
        public static final int PAD = 26;
        public static final int RESERVED = 28;

        private CtrlCmd() {
        }
    }

    /** struct ublksrv_ctrl_dev_info. */
    public static final class DevInfo {
        public static final int SIZE = 64;
        public static final int NR_HW_QUEUES = 0;
        public static final int QUEUE_DEPTH = 2;
        public static final int STATE = 4;
        public static final int MAX_IO_BUF_BYTES = 8;
        public static final int DEV_ID = 12;
        public static final int UBLKSRV_PID = 16;
        public static final int FLAGS = 24;
        /** Kept by the driver for the server, never looked at: where we keep the image's fingerprint. */
        public static final int UBLKSRV_FLAGS = 32;
        public static final int OWNER_UID = 40;
        public static final int OWNER_GID = 44;

        private DevInfo() {
        }
    }

    /** struct ublksrv_io_desc: one per tag, in the descriptor area the server maps read-only. */
    public static final class IoDesc {
        public static final int SIZE = 24;
        public static final int OP_FLAGS = 0;
        public static final int NR_SECTORS = 4;
        public static final int START_SECTOR = 8;
        public static final int ADDR = 16;

        private IoDesc() {
        }
    }

    /** struct ublksrv_io_cmd: the command area of an I/O submission (fits a 64-byte entry). */
    public static final class IoCmd {
        public static final int SIZE = 16;
        public static final int Q_ID = 0;
        public static final int TAG = 2;
        public static final int RESULT = 4;
        public static final int ADDR = 8;

        private IoCmd() {
        }
    }

    /** struct ublk_params, with its basic, discard and devt parts. */
    public static final class Params {
        /** The size of the structure as this mirror knows it; the driver copies what both know. */
        public static final int SIZE = 112;
        public static final int LEN = 0;
        public static final int TYPES = 4;
        public static final int BASIC = 8;
        public static final int DISCARD = 40;
        public static final int DEVT = 60;

        private Params() {
        }
    }

    /** struct ublk_param_basic, from {@link Params#BASIC}. */
    public static final class Basic {
        public static final int ATTRS = 0;
        public static final int LOGICAL_BS_SHIFT = 4;
        public static final int PHYSICAL_BS_SHIFT = 5;
        public static final int IO_OPT_SHIFT = 6;
        public static final int IO_MIN_SHIFT = 7;
        public static final int MAX_SECTORS = 8;
        public static final int CHUNK_SECTORS = 12;
        public static final int DEV_SECTORS = 16;
        public static final int VIRT_BOUNDARY_MASK = 24;

        private Basic() {
        }
    }

    /** struct ublk_param_discard, from {@link Params#DISCARD}. */
    public static final class Discard {
        public static final int DISCARD_ALIGNMENT = 0;
        public static final int DISCARD_GRANULARITY = 4;
        public static final int MAX_DISCARD_SECTORS = 8;
        public static final int MAX_WRITE_ZEROES_SECTORS = 12;
        public static final int MAX_DISCARD_SEGMENTS = 16;

        private Discard() {
        }
    }

    /** struct ublk_param_devt, from {@link Params#DEVT} (filled by GET_PARAMS). */
    public static final class Devt {
        public static final int CHAR_MAJOR = 0;
        public static final int CHAR_MINOR = 4;
        public static final int DISK_MAJOR = 8;
        public static final int DISK_MINOR = 12;

        private Devt() {
        }
    }

    private static final int TYPE = 'u';

    private static long ctrl(int dir, int nr) {
        return ioc(dir, TYPE, nr, CtrlCmd.SIZE);
    }

    public static final long U_CMD_GET_QUEUE_AFFINITY = ctrl(IOC_READ, 0x01);
    public static final long U_CMD_GET_DEV_INFO = ctrl(IOC_READ, 0x02);
    public static final long U_CMD_ADD_DEV = ctrl(IOC_READ | IOC_WRITE, 0x04);
    public static final long U_CMD_DEL_DEV = ctrl(IOC_READ | IOC_WRITE, 0x05);
    public static final long U_CMD_START_DEV = ctrl(IOC_READ | IOC_WRITE, 0x06);
    public static final long U_CMD_STOP_DEV = ctrl(IOC_READ | IOC_WRITE, 0x07);
    public static final long U_CMD_SET_PARAMS = ctrl(IOC_READ | IOC_WRITE, 0x08);
    public static final long U_CMD_GET_PARAMS = ctrl(IOC_READ, 0x09);
    public static final long U_CMD_START_USER_RECOVERY = ctrl(IOC_READ | IOC_WRITE, 0x10);
    public static final long U_CMD_END_USER_RECOVERY = ctrl(IOC_READ | IOC_WRITE, 0x11);
    public static final long U_CMD_GET_DEV_INFO2 = ctrl(IOC_READ, 0x12);
    public static final long U_CMD_GET_FEATURES = ctrl(IOC_READ, 0x13);
    public static final long U_CMD_DEL_DEV_ASYNC = ctrl(IOC_READ, 0x14);

    public static final long U_IO_FETCH_REQ = ioc(IOC_READ | IOC_WRITE, TYPE, 0x20, IoCmd.SIZE);
    public static final long U_IO_COMMIT_AND_FETCH_REQ = ioc(IOC_READ | IOC_WRITE, TYPE, 0x21, IoCmd.SIZE);
    public static final long U_IO_NEED_GET_DATA = ioc(IOC_READ | IOC_WRITE, TYPE, 0x22, IoCmd.SIZE);

    /** The size of each queue's slot in the char device's descriptor mapping (room for the deepest queue). */
    public static long maxCmdBufSize(int pageSize) {
        return roundUp((long) MAX_QUEUE_DEPTH * IoDesc.SIZE, pageSize);
    }

    /** The mapped size of the descriptor area of a queue {@code depth} deep. */
    public static long cmdBufSize(int depth, int pageSize) {
        return roundUp((long) depth * IoDesc.SIZE, pageSize);
    }

    /** With USER_COPY: where the data of request {@code tag} of queue {@code q} is read and written. */
    public static long userCopyOffset(int q, int tag) {
        return IO_BUF_OFFSET + ((long) q << QID_OFF) + ((long) tag << TAG_OFF);
    }

    private static long roundUp(long n, int to) {
        return (n + to - 1) / to * to;
    }

    private UblkAbi() {
    }
}
