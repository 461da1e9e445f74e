package org.vdmount.mounter.uring;

/**
 * The Java mirror of the parts of include/uapi/linux/io_uring.h that {@link IoUring} uses: system
 * call numbers, flags, and the byte offset of every structure field it reads or writes. UblkAbiTest
 * compiles a C program against the kernel's header and checks each number here.
 */
public final class IoUringAbi {
    /** System call numbers: one table for every architecture since Linux 5.1. */
    public static final int SYS_SETUP = 425;
    public static final int SYS_ENTER = 426;
    public static final int SYS_REGISTER = 427;

    public static final int SETUP_CQSIZE = 1 << 3;
    public static final int SETUP_CLAMP = 1 << 4;
    public static final int SETUP_SUBMIT_ALL = 1 << 7;
    /** Completions need not interrupt the task (no IPI): it picks them up when it enters the kernel. */
    public static final int SETUP_COOP_TASKRUN = 1 << 8;
    /** 128-byte submission entries, with 80 bytes of command: ublk's control commands need them. */
    public static final int SETUP_SQE128 = 1 << 10;
    /** Only the thread that made the ring submits to it. */
    public static final int SETUP_SINGLE_ISSUER = 1 << 12;
    /** Completion work waits until that thread asks for completions (needs SINGLE_ISSUER; Linux 6.1). */
    public static final int SETUP_DEFER_TASKRUN = 1 << 13;

    public static final int ENTER_GETEVENTS = 1;
    public static final int ENTER_EXT_ARG = 1 << 3;

    public static final int FEAT_SINGLE_MMAP = 1;
    public static final int FEAT_NODROP = 1 << 1;
    public static final int FEAT_EXT_ARG = 1 << 8;

    public static final long OFF_SQ_RING = 0L;
    public static final long OFF_CQ_RING = 0x8000000L;
    public static final long OFF_SQES = 0x10000000L;

    public static final int OP_NOP = 0;
    public static final int OP_READ = 22;
    public static final int OP_URING_CMD = 46;

    /** sqe.flags: {@code fd} is an index into the ring's registered files. */
    public static final int SQE_FIXED_FILE = 1;

    public static final int REGISTER_FILES = 2;

    /** struct io_uring_params. */
    public static final class Params {
        public static final int SIZE = 120;
        public static final int SQ_ENTRIES = 0;
        public static final int CQ_ENTRIES = 4;
        public static final int FLAGS = 8;
        public static final int FEATURES = 20;
        public static final int SQ_OFF = 40;
        public static final int CQ_OFF = 80;

        private Params() {
        }
    }

    /** struct io_sqring_offsets: where each field of the submission ring lies in its mapping. */
    public static final class SqOffsets {
        public static final int HEAD = 0;
        public static final int TAIL = 4;
        public static final int RING_MASK = 8;
        public static final int RING_ENTRIES = 12;
        public static final int FLAGS = 16;
        public static final int DROPPED = 20;
        public static final int ARRAY = 24;

        private SqOffsets() {
        }
    }

    /** struct io_cqring_offsets. */
    public static final class CqOffsets {
        public static final int HEAD = 0;
        public static final int TAIL = 4;
        public static final int RING_MASK = 8;
        public static final int RING_ENTRIES = 12;
        public static final int OVERFLOW = 16;
        public static final int CQES = 20;

        private CqOffsets() {
        }
    }

    /** struct io_uring_sqe (64 bytes; 128 with SETUP_SQE128, the command area growing to 80). */
    public static final class Sqe {
        public static final int SIZE = 64;
        public static final int OPCODE = 0;
        public static final int FLAGS = 1;
        public static final int IOPRIO = 2;
        public static final int FD = 4;
        public static final int OFF = 8;
        /** For OP_URING_CMD: the driver's command number, in the union with {@link #OFF}. */
        public static final int CMD_OP = 8;
        public static final int ADDR = 16;
        public static final int LEN = 24;
        public static final int OP_FLAGS = 28;
        public static final int USER_DATA = 32;
        public static final int BUF_INDEX = 40;
        public static final int PERSONALITY = 42;
        public static final int FILE_INDEX = 44;
        /** For OP_URING_CMD: the driver's command structure (16 bytes, or 80 with SETUP_SQE128). */
        public static final int CMD = 48;

        private Sqe() {
        }
    }

    /** struct io_uring_cqe. */
    public static final class Cqe {
        public static final int SIZE = 16;
        public static final int USER_DATA = 0;
        public static final int RES = 8;
        public static final int FLAGS = 12;

        private Cqe() {
        }
    }

    /** struct io_uring_getevents_arg, for ENTER_EXT_ARG (a wait with a time limit). */
    public static final class GeteventsArg {
        public static final int SIZE = 24;
        public static final int SIGMASK = 0;
        public static final int SIGMASK_SZ = 8;
        public static final int TS = 16;

        private GeteventsArg() {
        }
    }

    private IoUringAbi() {
    }
}
