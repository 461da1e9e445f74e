package org.vdmount.mounter.transport.abuse;

import static org.vdmount.mounter.jna.LibC.IOC_NONE;
import static org.vdmount.mounter.jna.LibC.IOC_READ;
import static org.vdmount.mounter.jna.LibC.IOC_WRITE;
import static org.vdmount.mounter.jna.LibC.ioc;

/**
 * The Java mirror of kmod/abuse.h: ioctl numbers, flags, and the byte offset of every structure
 * field. AbuseAbiTest compiles a C program against the header and checks each number here.
 */
public final class AbuseAbi {
    public static final String CONTROL_DEVICE = "/dev/abctl";
    public static final String DISK_PREFIX = "abuse";

    public static final int MAX_QUEUE_DEPTH = 4096;
    public static final int MAX_HW_QUEUES = 64;
    public static final int MIN_REQ_BYTES = 4096;
    public static final int MAX_REQ_BYTES = 4 << 20;
    public static final int MAX_BATCH = 4096;
    public static final int BACKING_LEN = 248;

    /** ABUSE_GET_FEATURES bits. */
    public static final long FEAT_SEQ_HANDLES = 1L;
    public static final long FEAT_START = 1L << 1;
    public static final long FEAT_IO_TIMEOUT = 1L << 2;
    public static final long FEAT_RECOVERY = 1L << 3;
    public static final long FEAT_NEXT = 1L << 4;

    public static final int FLAG_READ_ONLY = 1;
    public static final int FLAG_NO_PARTSCAN = 1 << 1;
    public static final int FLAG_SET_TIMEOUT = 1 << 2;
    public static final int FLAG_SET_IO_TIMEOUT = 1 << 3;
    public static final int FLAG_RECOVERY_FAIL = 1 << 4;

    public static final int STATE_ADDED = 0;
    public static final int STATE_LIVE = 1;
    public static final int STATE_DEAD = 2;

    public static final int OP_READ = 0;
    public static final int OP_WRITE = 1;
    public static final int OP_FLUSH = 2;
    public static final int OP_DISCARD = 3;
    public static final int OP_WRITE_ZEROES = 4;

    public static final int REQ_FUA = 1;
    public static final int REQ_NOUNMAP = 1 << 1;

    /** struct abuse_dev_info. */
    public static final class DevInfo {
        public static final int SIZE = 96;
        public static final int INDEX = 0;
        public static final int FLAGS = 4;
        public static final int DEV_SIZE = 8;
        public static final int BLOCK_SIZE = 16;
        public static final int MAX_REQ_BYTES = 20;
        public static final int QUEUE_DEPTH = 24;
        public static final int NR_HW_QUEUES = 28;
        public static final int TIMEOUT = 32;
        public static final int IO_TIMEOUT = 36;
        public static final int STATE = 40;
        public static final int NR_SERVERS = 44;
        public static final int QUEUED = 48;
        public static final int INFLIGHT = 52;
        public static final int HELD = 56;
        public static final int SERVER_PID = 60;
        public static final int ERRORS = 64;
        public static final int TIMEOUTS = 72;

        private DevInfo() {
        }
    }

    /** struct abuse_backing. */
    public static final class Backing {
        public static final int SIZE = 256;
        public static final int INDEX = 0;
        public static final int TEXT = 8;

        private Backing() {
        }
    }

    /** struct abuse_request. */
    public static final class Request {
        public static final int SIZE = 40;
        public static final int TAG = 0;
        public static final int OP = 4;
        public static final int SEQ = 8;
        public static final int OFFSET = 16;
        public static final int LEN = 24;
        public static final int FLAGS = 28;
        public static final int DATA_OFFSET = 32;

        private Request() {
        }
    }

    /** struct abuse_completion. */
    public static final class Completion {
        public static final int SIZE = 32;
        public static final int TAG = 0;
        public static final int RESULT = 4;
        public static final int SEQ = 8;
        public static final int ADDR = 16;
        public static final int LEN = 24;
        public static final int RESERVED = 28;

        private Completion() {
        }
    }

    /** struct abuse_xfer. */
    public static final class Xfer {
        public static final int SIZE = 56;
        public static final int CMPL_ADDR = 0;
        public static final int CMPL_COUNT = 8;
        public static final int REQ_COUNT = 12;
        public static final int REQ_ADDR = 16;
        public static final int DATA_ADDR = 24;
        public static final int DATA_LEN = 32;
        public static final int CMPL_DONE = 36;
        public static final int CMPL_ERRORS = 40;

        private Xfer() {
        }
    }

    private static final int MAGIC = 0xAB;

    public static final long CTL_ADD = ioc(IOC_READ | IOC_WRITE, MAGIC, 0x00, DevInfo.SIZE);
    public static final long CTL_REMOVE = ioc(IOC_NONE, MAGIC, 0x01, 0);
    public static final long CTL_GET_STATUS = ioc(IOC_READ | IOC_WRITE, MAGIC, 0x02, DevInfo.SIZE);
    public static final long CTL_RESET = ioc(IOC_NONE, MAGIC, 0x03, 0);
    public static final long CTL_SET_BACKING = ioc(IOC_WRITE, MAGIC, 0x04, Backing.SIZE);
    public static final long GET_FEATURES = ioc(IOC_READ, MAGIC, 0x05, 8);
    public static final long CTL_START = ioc(IOC_NONE, MAGIC, 0x06, 0);
    public static final long CTL_NEXT = ioc(IOC_READ | IOC_WRITE, MAGIC, 0x07, DevInfo.SIZE);
    public static final long CTL_GET_BACKING = ioc(IOC_READ | IOC_WRITE, MAGIC, 0x08, Backing.SIZE);
    public static final long ATTACH = ioc(IOC_NONE, MAGIC, 0x12, 0);
    public static final long COMMIT_AND_FETCH = ioc(IOC_READ | IOC_WRITE, MAGIC, 0x13, Xfer.SIZE);

    /** What this server needs of the module: anything older is refused with a clear message. */
    public static final long NEEDED_FEATURES = FEAT_SEQ_HANDLES | FEAT_START | FEAT_IO_TIMEOUT | FEAT_NEXT;

    private AbuseAbi() {
    }
}
