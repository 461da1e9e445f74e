package org.vdmount.mounter.transport.fuse;

/**
 * The Java mirror of the kernel's FUSE protocol, version 7 (Linux include/uapi/linux/fuse.h):
 * opcodes, flags, and the byte offset of every field of the structs we read or write. Only what a
 * read-mostly file system of flat files needs. The layouts are those of minor 38 (Linux 6.1),
 * which older kernels read as a prefix. FuseAbiTest compiles a C program against the header and
 * checks each number here.
 */
final class FuseAbi {
    static final int KERNEL_MAJOR = 7;
    /** The newest minor whose structs we know; we answer with min(kernel's, this). */
    static final int MAX_MINOR = 38;
    static final long ROOT_ID = 1;

    // enum fuse_opcode
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

    // INIT flags
    static final int ASYNC_READ = 1;
    static final int BIG_WRITES = 1 << 5;
    static final int ASYNC_DIO = 1 << 15;
    static final int PARALLEL_DIROPS = 1 << 18;
    static final int MAX_PAGES = 1 << 22;

    // fuse_open_out.open_flags
    static final int FOPEN_KEEP_CACHE = 1 << 1;

    // Not from fuse.h: lseek(2), stat(2), dirent and open(2) numbers the requests carry.
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int DT_DIR = 4;
    static final int DT_REG = 8;
    static final int O_ACCMODE = 3;

    /** Largest READ or WRITE payload we negotiate: 256 pages, so a loop device's 1 MiB reads stay whole. */
    static final int MAX_TRANSFER = 1 << 20;

    private FuseAbi() {
    }

    /** struct fuse_in_header: starts every request; the request's own struct follows it. */
    static final class InHeader {
        static final int SIZE = 40;
        static final int LEN = 0;
        static final int OPCODE = 4;
        static final int UNIQUE = 8;
        static final int NODEID = 16;

        private InHeader() {
        }
    }

    /** struct fuse_out_header: starts every reply; a negative errno in ERROR, or the reply's struct after it. */
    static final class OutHeader {
        static final int SIZE = 16;
        static final int LEN = 0;
        static final int ERROR = 4;
        static final int UNIQUE = 8;

        private OutHeader() {
        }
    }

    /** struct fuse_init_in. */
    static final class InitIn {
        static final int MAJOR = 0;
        static final int MINOR = 4;
        static final int MAX_READAHEAD = 8;
        static final int FLAGS = 12;

        private InitIn() {
        }
    }

    /** struct fuse_init_out. */
    static final class InitOut {
        static final int SIZE = 64;
        static final int MAJOR = 0;
        static final int MINOR = 4;
        static final int MAX_READAHEAD = 8;
        static final int FLAGS = 12;
        static final int MAX_BACKGROUND = 16;
        static final int CONGESTION_THRESHOLD = 18;
        static final int MAX_WRITE = 20;
        static final int TIME_GRAN = 24;
        static final int MAX_PAGES = 28;
        /** The first field after those we set: map_alignment, flags2 and the unused words stay zero. */
        static final int MAP_ALIGNMENT = 30;

        private InitOut() {
        }
    }

    /** struct fuse_attr, inside the entry and attr replies. */
    static final class Attr {
        static final int SIZE = 88;
        static final int INO = 0;
        static final int SIZE_BYTES = 8;
        static final int BLOCKS = 16;
        static final int ATIME = 24;
        static final int MTIME = 32;
        static final int CTIME = 40;
        static final int ATIMENSEC = 48;
        static final int MTIMENSEC = 52;
        static final int CTIMENSEC = 56;
        static final int MODE = 60;
        static final int NLINK = 64;
        static final int UID = 68;
        static final int GID = 72;
        static final int RDEV = 76;
        static final int BLKSIZE = 80;
        static final int FLAGS = 84;

        private Attr() {
        }
    }

    /** struct fuse_entry_out: the reply to LOOKUP. */
    static final class EntryOut {
        static final int SIZE = 128;
        static final int NODEID = 0;
        static final int GENERATION = 8;
        static final int ENTRY_VALID = 16;
        static final int ATTR_VALID = 24;
        static final int ENTRY_VALID_NSEC = 32;
        static final int ATTR_VALID_NSEC = 36;
        static final int ATTR = 40;

        private EntryOut() {
        }
    }

    /** struct fuse_attr_out: the reply to GETATTR. */
    static final class AttrOut {
        static final int SIZE = 104;
        static final int ATTR_VALID = 0;
        static final int ATTR_VALID_NSEC = 8;
        static final int DUMMY = 12;
        static final int ATTR = 16;

        private AttrOut() {
        }
    }

    /** struct fuse_open_in: OPEN and OPENDIR. */
    static final class OpenIn {
        static final int FLAGS = 0;

        private OpenIn() {
        }
    }

    /** struct fuse_open_out. */
    static final class OpenOut {
        static final int SIZE = 16;
        static final int FH = 0;
        static final int OPEN_FLAGS = 8;
        static final int PADDING = 12;

        private OpenOut() {
        }
    }

    /** struct fuse_read_in: READ and READDIR. */
    static final class ReadIn {
        static final int OFFSET = 8;
        static final int SIZE_BYTES = 16;

        private ReadIn() {
        }
    }

    /** struct fuse_write_in: the data follows it. */
    static final class WriteIn {
        static final int SIZE = 40;
        static final int OFFSET = 8;
        static final int SIZE_BYTES = 16;

        private WriteIn() {
        }
    }

    /** struct fuse_write_out. */
    static final class WriteOut {
        static final int SIZE = 8;
        static final int SIZE_BYTES = 0;
        static final int PADDING = 4;

        private WriteOut() {
        }
    }

    /** struct fuse_lseek_in. */
    static final class LseekIn {
        static final int OFFSET = 8;
        static final int WHENCE = 16;

        private LseekIn() {
        }
    }

    /** struct fuse_lseek_out. */
    static final class LseekOut {
        static final int SIZE = 8;
        static final int OFFSET = 0;

        private LseekOut() {
        }
    }

    /** struct fuse_kstatfs, the whole of struct fuse_statfs_out. */
    static final class StatfsOut {
        static final int SIZE = 80;
        static final int BLOCKS = 0;
        static final int BFREE = 8;
        static final int BAVAIL = 16;
        static final int FILES = 24;
        static final int FFREE = 32;
        static final int BSIZE = 40;
        static final int NAMELEN = 44;
        static final int FRSIZE = 48;
        /** The first field after those we set: padding and spare stay zero. */
        static final int PADDING = 52;

        private StatfsOut() {
        }
    }

    /** struct fuse_dirent: READDIR's entries, each padded to 8 bytes (FUSE_DIRENT_ALIGN). */
    static final class Dirent {
        static final int INO = 0;
        static final int OFF = 8;
        static final int NAMELEN = 16;
        static final int TYPE = 20;
        /** FUSE_NAME_OFFSET. */
        static final int NAME = 24;
        static final int ALIGN = 8;

        private Dirent() {
        }
    }
}
