package org.vdmount.mounter.system;

/**
 * Linux errno values: what system calls fail with, and what every transport answers a failed
 * request with (the kernel's block layer, FUSE and the NBD protocol all speak these numbers; NBD
 * keeps a subset, see {@code NbdProtocol.errorFor}).
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ENOSYS = 38;
    public static final int ETIME = 62;
    public static final int EPROTO = 71;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ENOTCONN = 107;
    public static final int ESHUTDOWN = 108;
    public static final int ETIMEDOUT = 110;
    public static final int EDQUOT = 122;

    private Errno() {
    }

    /**
     * What a failed control call (ioctl, open of a device) means to the user, for the errors every
     * transport meets alike; a transport words its own meanings first and falls back on this.
     */
    public static String text(int errno) {
        return switch (errno) {
            case EPERM, EACCES -> "permission denied (run as root)";
            case EBUSY -> "device busy";
            case EINVAL -> "invalid argument";
            case ENXIO, ENODEV -> "no such device";
            default -> "errno " + errno;
        };
    }
}
