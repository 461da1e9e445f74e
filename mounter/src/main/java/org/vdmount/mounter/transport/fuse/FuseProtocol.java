package org.vdmount.mounter.transport.fuse;

/**
 * Numbers and struct sizes of the kernel's FUSE protocol, version 7 (Linux
 * include/uapi/linux/fuse.h). Only what a read-mostly file system of flat files needs.
 */
final class FuseProtocol {
    static final int KERNEL_MAJOR = 7;
    /** The newest minor whose structs we know; we answer with min(kernel's, this). */
    static final int MAX_MINOR = 38;
    static final long ROOT_ID = 1;

    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int INTERRUPT = 36;
    static final int DESTROY = 38;
    static final int BATCH_FORGET = 42;
    static final int LSEEK = 46;

    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    static final int ATTR_SIZE = 88;
    static final int ENTRY_OUT = 40 + ATTR_SIZE;
    static final int ATTR_OUT = 16 + ATTR_SIZE;
    static final int OPEN_OUT = 16;
    static final int INIT_OUT = 64;
    static final int STATFS_OUT = 80;
    static final int WRITE_IN = 40;
    static final int WRITE_OUT = 8;
    static final int LSEEK_OUT = 8;

    static final int ASYNC_READ = 1;
    static final int BIG_WRITES = 1 << 5;
    static final int ASYNC_DIO = 1 << 15;
    static final int PARALLEL_DIROPS = 1 << 18;
    static final int MAX_PAGES = 1 << 22;

    static final int FOPEN_KEEP_CACHE = 1 << 1;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int DT_DIR = 4;
    static final int DT_REG = 8;

    static final int O_ACCMODE = 3;

    /** Largest READ or WRITE payload we negotiate: 256 pages, so a loop device's 1 MiB reads stay whole. */
    static final int MAX_TRANSFER = 1 << 20;

    private FuseProtocol() {
    }
}
