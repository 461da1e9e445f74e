package org.vdmount.mounter.serve.nbd;

/**
 * Numbers of the NBD protocol, as the NetworkBlockDevice project's {@code doc/proto.md} defines
 * them (newstyle fixed negotiation, structured replies, the {@code base:allocation} context). All
 * values travel in network byte order.
 */
public final class NbdProtocol {
    private NbdProtocol() {
    }

    // Handshake
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454f5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;

    // Options
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;

    // Option replies
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    private static final int REP_ERROR = 1 << 31;
    static final int REP_ERR_UNSUP = REP_ERROR | 1;
    static final int REP_ERR_POLICY = REP_ERROR | 2;
    static final int REP_ERR_INVALID = REP_ERROR | 3;
    static final int REP_ERR_UNKNOWN = REP_ERROR | 6;
    static final int REP_ERR_TOO_BIG = REP_ERROR | 9;

    // NBD_REP_INFO kinds
    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

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
    static final int REQUEST_MAGIC = 0x25609513;
    static final int REQUEST_HEADER_SIZE = 28;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    static final int CMD_FLAG_DF = 1 << 2;
    static final int CMD_FLAG_REQ_ONE = 1 << 3;

    // Replies
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int SIMPLE_REPLY_SIZE = 16;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    static final int CHUNK_HEADER_SIZE = 20;
    static final int REPLY_FLAG_DONE = 1;

    static final int REPLY_TYPE_NONE = 0;
    static final int REPLY_TYPE_OFFSET_DATA = 1;
    static final int REPLY_TYPE_OFFSET_HOLE = 2;
    static final int REPLY_TYPE_BLOCK_STATUS = 5;
    static final int REPLY_TYPE_ERROR = (1 << 15) | 1;

    // Error numbers (the protocol's own, which happen to match Linux errno)
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOTSUP = 95;

    // The base:allocation metadata context
    static final String BASE_ALLOCATION = "base:allocation";
    /** Our id for base:allocation; any number will do, the client learns it from the reply. */
    static final int BASE_ALLOCATION_ID = 1;
    static final int STATE_HOLE = 1;
    static final int STATE_ZERO = 1 << 1;

    /** Largest READ or WRITE payload we take: what qemu and nbdkit use, and what clients expect. */
    static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    /** Strings (names, queries) longer than this are a protocol violation. */
    static final int MAX_STRING = 4096;
}
