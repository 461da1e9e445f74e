package org.vdmount.mounter.nbd;

import org.vdmount.mounter.gateway.Capabilities;
import org.vdmount.mounter.system.Errno;

/**
 * Numbers of the NBD protocol, as the NetworkBlockDevice project's {@code doc/proto.md} defines
 * them (newstyle fixed negotiation, structured replies, the {@code base:allocation} context). All
 * values travel in network byte order.
 */
public final class NbdProtocol {
    private NbdProtocol() {
    }

    // Handshake
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454f5054L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;

    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;
    public static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    public static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;

    // Options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;

    // Option replies
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    private static final int REP_ERROR = 1 << 31;
    public static final int REP_ERR_UNSUP = REP_ERROR | 1;
    public static final int REP_ERR_POLICY = REP_ERROR | 2;
    public static final int REP_ERR_INVALID = REP_ERROR | 3;
    public static final int REP_ERR_TLS_REQD = REP_ERROR | 5;
    public static final int REP_ERR_UNKNOWN = REP_ERROR | 6;
    public static final int REP_ERR_TOO_BIG = REP_ERROR | 9;

    // NBD_REP_INFO kinds
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // Transmission flags
    public static final int TFLAG_HAS_FLAGS = 1;
    public static final int TFLAG_READ_ONLY = 1 << 1;
    public static final int TFLAG_SEND_FLUSH = 1 << 2;
    public static final int TFLAG_SEND_FUA = 1 << 3;
    public static final int TFLAG_SEND_TRIM = 1 << 5;
    public static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int TFLAG_SEND_DF = 1 << 7;
    public static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    // Requests
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int REQUEST_HEADER_SIZE = 28;

    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;

    // Replies
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int SIMPLE_REPLY_SIZE = 16;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int CHUNK_HEADER_SIZE = 20;
    public static final int REPLY_FLAG_DONE = 1;

    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_ERROR = (1 << 15) | 1;

    // Error numbers (the protocol's own, which happen to match Linux errno)
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    // The base:allocation metadata context
    public static final String BASE_ALLOCATION = "base:allocation";
    /** Our id for base:allocation; any number will do, the client learns it from the reply. */
    public static final int BASE_ALLOCATION_ID = 1;
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    /** Largest READ or WRITE payload we take: what qemu and nbdkit use, and what clients expect. */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    /** Strings (names, queries) longer than this are a protocol violation. */
    public static final int MAX_STRING = 4096;
    /** Cap on extents per block status reply (like qemu's), so a tiny-cluster image cannot blow a reply up. */
    public static final int MAX_EXTENTS = 16 * 1024;

    /**
     * The transmission flags of a disk, for a server's handshake and for the kernel's
     * NBD_SET_FLAGS alike: what the disk can do ({@link Capabilities}), and don't-fragment once
     * structured replies are on (there is nothing to fragment without them).
     */
    public static int transmissionFlags(Capabilities capabilities, boolean structuredReplies) {
        int flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH;
        if (structuredReplies) {
            flags |= TFLAG_SEND_DF;
        }
        if (!capabilities.writable()) {
            flags |= TFLAG_READ_ONLY;
        }
        if (capabilities.fua()) {
            flags |= TFLAG_SEND_FUA;
        }
        if (capabilities.trim()) {
            flags |= TFLAG_SEND_TRIM;
        }
        if (capabilities.writeZeroes()) {
            flags |= TFLAG_SEND_WRITE_ZEROES;
        }
        if (capabilities.multiConn()) {
            flags |= TFLAG_CAN_MULTI_CONN;
        }
        return flags;
    }

    /**
     * The NBD error for a Linux errno, as nbdkit's nbd_errno() chooses it: the protocol knows only
     * a few numbers, and a client must treat any other as EINVAL.
     */
    public static int errorFor(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EROFS -> EPERM;
            case Errno.EIO -> EIO;
            case Errno.ENOMEM -> ENOMEM;
            case Errno.ENOSPC, Errno.EFBIG, Errno.EDQUOT -> ENOSPC;
            case Errno.EOVERFLOW -> EOVERFLOW;
            case Errno.ENOTSUP -> ENOTSUP;
            case Errno.ESHUTDOWN -> ESHUTDOWN;
            default -> EINVAL;
        };
    }
}
